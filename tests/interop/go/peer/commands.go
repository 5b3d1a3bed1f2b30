// SPDX-License-Identifier: MPL-2.0

package main

// Commands: one JSON object per line, {"cmd": "<name>", "id": <any>, ...}.
// Each runs in its own goroutine, so a slow one (a join that times out, a
// leave) never holds up the others; wait for a command's result before
// counting on its effect. Every command gets exactly one result line,
// {"event":"result","id":<id>,"ok":true|false,"error"?:"...", ...}; a line
// that is not a command gets one too, with the id if one could be read.
//
// "node" names the node a command acts on: its index, its name, or (for the
// commands that say so) "all". It defaults to 0.
//
//	join         {node|"all", addrs?: ["ip:port"|"name/ip:port"...]}  -> joined
//	             (no addrs: the address of node 0, which then does nothing)
//	members      {node, all?: bool}  -> members [{name, addr, port, meta, state, incarnation,
//	             stateChange, vsn: [pMin, pMax, pCur, dMin, dMax, dCur]}]
//	             (all: dead and left records too)
//	leave        {node|"all", timeoutMs?, shutdown?: bool (true)}
//	shutdown     {node|"all"}   (no leave message)
//	update-meta  {node, meta: hex, timeoutMs?}
//	send         {node, to: name, data: hex, reliable?: bool}
//	broadcast    {node|"all", data: hex}
//	local-state  {node|"all", data: hex}
//	health       {node}  -> score
//	drop-udp     {node|"all", on: bool, addrs?: ["ip:port"...]}  (addrs: only the
//	             datagrams exchanged with these addresses, added with on, removed without)
//	slow         {node|"all", delayMs: int, streams?: bool}  (0: off; streams: inbound
//	             connections are held back too, so TCP fallback pings fail as well)
//	keyring      {node|"all", op: "install"|"use"|"remove"|"list", key?: hex}  -> keys, primary
//	stats        {}  -> cpuUserMs, cpuSystemMs, heapBytes, goroutines, perNode [...]
//	counters     {}  -> counters {"memberlist.msg.suspect": n, ...}: go-metrics counters of
//	             the whole process (every node), kept only with --metrics
//	exit         {}

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"time"

	ml "github.com/hashicorp/memberlist"
)

type command struct {
	Cmd       string          `json:"cmd"`
	ID        json.RawMessage `json:"id,omitempty"`
	Node      json.RawMessage `json:"node,omitempty"`
	Addrs     []string        `json:"addrs,omitempty"`
	TimeoutMs *int            `json:"timeoutMs,omitempty"`
	Shutdown  *bool           `json:"shutdown,omitempty"`
	All       bool            `json:"all,omitempty"`
	Meta      *string         `json:"meta,omitempty"`
	To        string          `json:"to,omitempty"`
	Data      *string         `json:"data,omitempty"`
	Reliable  bool            `json:"reliable,omitempty"`
	On        *bool           `json:"on,omitempty"`
	Streams   bool            `json:"streams,omitempty"`
	DelayMs   *int            `json:"delayMs,omitempty"`
	Op        string          `json:"op,omitempty"`
	Key       string          `json:"key,omitempty"`
}

// fields is the command-specific part of a result.
type fields map[string]interface{}

func (p *peer) dispatch(line []byte) {
	var head struct {
		ID json.RawMessage `json:"id"`
	}
	_ = json.Unmarshal(line, &head)
	var cmd command
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cmd); err != nil {
		p.reply(head.ID, nil, fmt.Errorf("cannot parse the command: %v", err))
		return
	}
	if cmd.Cmd == "exit" {
		p.exit(func() { p.reply(cmd.ID, fields{}, nil) })
	}
	p.inflight.Add(1)
	go func() {
		defer p.inflight.Done()
		defer func() {
			if r := recover(); r != nil {
				p.reply(cmd.ID, nil, fmt.Errorf("%s failed: panic: %v", cmd.Cmd, r))
			}
		}()
		res, err := p.run(&cmd)
		p.reply(cmd.ID, res, err)
	}()
}

func (p *peer) reply(id json.RawMessage, res fields, err error) {
	out := fields{"event": "result", "ok": err == nil}
	if len(id) > 0 {
		out["id"] = id
	}
	for k, v := range res {
		out[k] = v
	}
	if err != nil {
		out["error"] = err.Error()
	}
	p.out.emit(out)
}

func (p *peer) run(c *command) (fields, error) {
	switch c.Cmd {
	case "join":
		return p.join(c)
	case "members":
		return p.members(c)
	case "leave":
		return p.leave(c)
	case "shutdown":
		return p.forEach(c, true, func(n *node) error {
			if !n.down.CompareAndSwap(false, true) {
				return nil
			}
			return n.list.Load().Shutdown()
		})
	case "update-meta":
		return p.updateMeta(c)
	case "send":
		return p.send(c)
	case "broadcast":
		data, err := hexField("data", c.Data)
		if err != nil {
			return nil, err
		}
		if len(data) == 0 {
			return nil, errors.New("cannot queue an empty broadcast")
		}
		return p.forEach(c, true, func(n *node) error {
			n.queue.QueueBroadcast(&userBroadcast{msg: data})
			return nil
		})
	case "local-state":
		data, err := hexField("data", c.Data)
		if err != nil {
			return nil, err
		}
		return p.forEach(c, true, func(n *node) error {
			n.mu.Lock()
			n.localState = data
			n.mu.Unlock()
			return nil
		})
	case "health":
		n, err := p.liveNode(c)
		if err != nil {
			return nil, err
		}
		return fields{"score": n.list.Load().GetHealthScore()}, nil
	case "drop-udp":
		if c.On == nil {
			return nil, errors.New("drop-udp needs \"on\": true or false")
		}
		return p.forEach(c, false, func(n *node) error {
			if len(c.Addrs) > 0 {
				n.t.setDropPeers(c.Addrs, *c.On)
			} else {
				n.t.dropUDP.Store(*c.On)
			}
			return nil
		})
	case "slow":
		if c.DelayMs == nil || *c.DelayMs < 0 {
			return nil, errors.New("slow needs \"delayMs\" >= 0")
		}
		d := time.Duration(*c.DelayMs) * time.Millisecond
		return p.forEach(c, false, func(n *node) error {
			n.t.delayNs.Store(int64(d))
			if c.Streams || d == 0 {
				n.t.streamDelayNs.Store(int64(d))
			}
			return nil
		})
	case "keyring":
		return p.keyring(c)
	case "stats":
		return p.stats(), nil
	case "counters":
		if p.metrics == nil {
			return nil, errors.New("counters needs the peer started with --metrics")
		}
		return fields{"counters": p.metrics.snapshot()}, nil
	case "":
		return nil, errors.New("missing \"cmd\"")
	}
	return nil, fmt.Errorf("unknown command %q", c.Cmd)
}

// ---- node selection ----

// selectNodes resolves the "node" field: an index, a name, or (allowAll) "all".
func (p *peer) selectNodes(c *command, allowAll bool) ([]*node, error) {
	if len(c.Node) == 0 || string(c.Node) == "null" {
		return p.nodes[:1], nil
	}
	var idx int
	if err := json.Unmarshal(c.Node, &idx); err == nil {
		if idx < 0 || idx >= len(p.nodes) {
			return nil, fmt.Errorf("no node %d: there are %d", idx, len(p.nodes))
		}
		return p.nodes[idx : idx+1], nil
	}
	var name string
	if err := json.Unmarshal(c.Node, &name); err != nil {
		return nil, fmt.Errorf("\"node\" must be an index, a name or \"all\", not %s", c.Node)
	}
	if name == "all" && allowAll {
		return p.nodes, nil
	}
	for _, n := range p.nodes {
		if n.name == name {
			return []*node{n}, nil
		}
	}
	if i, err := strconv.Atoi(name); err == nil && i >= 0 && i < len(p.nodes) {
		return p.nodes[i : i+1], nil
	}
	if name == "all" {
		return nil, fmt.Errorf("%s acts on one node, not \"all\"", c.Cmd)
	}
	return nil, fmt.Errorf("no node %q", name)
}

// liveNode resolves one node that is still running.
func (p *peer) liveNode(c *command) (*node, error) {
	ns, err := p.selectNodes(c, false)
	if err != nil {
		return nil, err
	}
	if ns[0].down.Load() {
		return nil, fmt.Errorf("node %s is shut down", ns[0].name)
	}
	return ns[0], nil
}

// forEach runs f on the selected nodes (all of them at once for "all"); with
// live, shut-down nodes are an error when named alone and skipped in "all".
// The result carries the names of the nodes f ran on.
func (p *peer) forEach(c *command, live bool, f func(*node) error) (fields, error) {
	ns, err := p.selectNodes(c, true)
	if err != nil {
		return nil, err
	}
	if live && len(ns) == 1 && ns[0].down.Load() {
		return nil, fmt.Errorf("node %s is shut down", ns[0].name)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	var errs []string
	done := []string{}
	for _, n := range ns {
		if live && n.down.Load() {
			continue
		}
		wg.Add(1)
		go func(n *node) {
			defer wg.Done()
			err := f(n)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s: %v", n.name, err))
			} else {
				done = append(done, n.name)
			}
		}(n)
	}
	wg.Wait()
	sort.Strings(done)
	res := fields{"nodes": done}
	if len(errs) > 0 {
		sort.Strings(errs)
		return res, errors.New(joinStrings(errs))
	}
	return res, nil
}

func joinStrings(s []string) string {
	var b bytes.Buffer
	for i, x := range s {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(x)
	}
	return b.String()
}

// ---- commands ----

func (p *peer) join(c *command) (fields, error) {
	addrs := c.Addrs
	var seed *node
	if len(addrs) == 0 {
		seed = p.nodes[0]
		if seed.down.Load() {
			return nil, errors.New("join without addrs joins node 0, which is shut down")
		}
		addrs = []string{seed.address()}
	}
	ns, err := p.selectNodes(c, true)
	if err != nil {
		return nil, err
	}
	if len(ns) == 1 && ns[0] == seed {
		return nil, fmt.Errorf("join without addrs joins node 0, so node 0 needs addrs")
	}
	var mu sync.Mutex
	var errs []string
	joined := 0
	// Several joins at once, but not hundreds: each is a TCP push/pull.
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for _, n := range ns {
		if n == seed {
			continue
		}
		if n.down.Load() {
			if len(ns) == 1 {
				return nil, fmt.Errorf("node %s is shut down", n.name)
			}
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func(n *node) {
			defer func() { <-sem; wg.Done() }()
			k, err := n.list.Load().Join(addrs)
			mu.Lock()
			defer mu.Unlock()
			joined += k
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s: %v", n.name, err))
			}
		}(n)
	}
	wg.Wait()
	res := fields{"joined": joined}
	if len(errs) > 0 {
		sort.Strings(errs)
		return res, errors.New(joinStrings(errs))
	}
	return res, nil
}

type memberInfo struct {
	Name        string  `json:"name"`
	Addr        string  `json:"addr"`
	Port        uint16  `json:"port"`
	Meta        string  `json:"meta"`
	State       string  `json:"state"`
	Incarnation uint32  `json:"incarnation"`
	StateChange float64 `json:"stateChange"`
	Vsn         []int   `json:"vsn"`
}

func (p *peer) members(c *command) (fields, error) {
	ns, err := p.selectNodes(c, false)
	if err != nil {
		return nil, err
	}
	n := ns[0]
	states := ml.PeerNodeStates(n.list.Load())
	out := []memberInfo{}
	for _, s := range states {
		if !c.All && (s.State == ml.StateDead || s.State == ml.StateLeft) {
			continue
		}
		out = append(out, memberInfo{
			Name:        s.Node.Name,
			Addr:        s.Node.Addr.String(),
			Port:        s.Node.Port,
			Meta:        hex.EncodeToString(s.Node.Meta),
			State:       stateName(s.State),
			Incarnation: s.Incarnation,
			StateChange: unixMs(s.StateChange),
			Vsn: []int{int(s.Node.PMin), int(s.Node.PMax), int(s.Node.PCur),
				int(s.Node.DMin), int(s.Node.DMax), int(s.Node.DCur)},
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return fields{"node": n.name, "down": n.down.Load(), "members": out}, nil
}

func timeoutOf(c *command, def time.Duration) time.Duration {
	if c.TimeoutMs == nil {
		return def
	}
	return time.Duration(*c.TimeoutMs) * time.Millisecond
}

func (p *peer) leave(c *command) (fields, error) {
	timeout := timeoutOf(c, 5*time.Second)
	shutdown := c.Shutdown == nil || *c.Shutdown
	return p.forEach(c, true, func(n *node) error {
		m := n.list.Load()
		err := m.Leave(timeout)
		if shutdown && n.down.CompareAndSwap(false, true) {
			m.Shutdown()
		}
		return err
	})
}

func (p *peer) updateMeta(c *command) (fields, error) {
	n, err := p.liveNode(c)
	if err != nil {
		return nil, err
	}
	meta, err := hexField("meta", c.Meta)
	if err != nil {
		return nil, err
	}
	if len(meta) > ml.MetaMaxSize {
		return nil, fmt.Errorf("meta is %d bytes, more than %d", len(meta), ml.MetaMaxSize)
	}
	n.mu.Lock()
	n.meta = meta
	n.mu.Unlock()
	if err := n.list.Load().UpdateNode(timeoutOf(c, 5*time.Second)); err != nil {
		return nil, err
	}
	return fields{}, nil
}

func (p *peer) send(c *command) (fields, error) {
	n, err := p.liveNode(c)
	if err != nil {
		return nil, err
	}
	data, err := hexField("data", c.Data)
	if err != nil {
		return nil, err
	}
	if len(data) == 0 {
		return nil, errors.New("cannot send an empty message")
	}
	if c.To == "" {
		return nil, errors.New("send needs \"to\": a node name")
	}
	m := n.list.Load()
	var to *ml.Node
	for _, member := range m.Members() {
		if member.Name == c.To {
			to = member
			break
		}
	}
	if to == nil {
		return nil, fmt.Errorf("node %s has no live member %q", n.name, c.To)
	}
	if c.Reliable {
		err = m.SendReliable(to, data)
	} else {
		err = m.SendBestEffort(to, data)
	}
	if err != nil {
		return nil, err
	}
	return fields{}, nil
}

func (p *peer) keyring(c *command) (fields, error) {
	var key []byte
	if c.Op != "list" {
		var err error
		if key, err = hex.DecodeString(c.Key); err != nil {
			return nil, fmt.Errorf("key is not hex: %v", err)
		}
	}
	var list fields
	var listMu sync.Mutex
	res, err := p.forEach(c, false, func(n *node) error {
		kr := n.conf.Keyring
		var err error
		switch c.Op {
		case "install":
			err = kr.AddKey(key)
		case "use":
			err = kr.UseKey(key)
		case "remove":
			err = kr.RemoveKey(key)
		case "list":
		default:
			return fmt.Errorf("unknown keyring op %q (install, use, remove, list)", c.Op)
		}
		listMu.Lock()
		defer listMu.Unlock()
		if list == nil {
			keys := []string{}
			for _, k := range kr.GetKeys() {
				keys = append(keys, hex.EncodeToString(k))
			}
			list = fields{"keys": keys, "primary": hex.EncodeToString(kr.GetPrimaryKey())}
		}
		return err
	})
	for k, v := range list {
		if res == nil {
			res = fields{}
		}
		res[k] = v
	}
	return res, err
}

type nodeStats struct {
	Name   string `json:"name"`
	UDPIn  uint64 `json:"udpIn"`
	UDPOut uint64 `json:"udpOut"`
	TCPIn  uint64 `json:"tcpIn"`
	TCPOut uint64 `json:"tcpOut"`
}

func (p *peer) stats() fields {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	tvMs := func(tv syscall.Timeval) float64 {
		return float64(tv.Sec)*1000 + float64(tv.Usec)/1000
	}
	var mem runtime.MemStats
	runtime.ReadMemStats(&mem)
	per := make([]nodeStats, 0, len(p.nodes))
	for _, n := range p.nodes {
		per = append(per, nodeStats{
			Name:   n.name,
			UDPIn:  n.t.udpIn.Load(),
			UDPOut: n.t.udpOut.Load(),
			TCPIn:  n.t.tcpIn.Load(),
			TCPOut: n.t.tcpOut.Load(),
		})
	}
	return fields{
		"cpuUserMs":   tvMs(ru.Utime),
		"cpuSystemMs": tvMs(ru.Stime),
		"maxRssBytes": ru.Maxrss * 1024,
		"rssBytes":    currentRSS(),
		"heapBytes":   mem.HeapAlloc,
		"goroutines":  runtime.NumGoroutine(),
		"perNode":     per,
	}
}

// currentRSS is the resident set size now, in bytes (the second field of
// /proc/self/statm, in pages), or -1 where that file is missing.
func currentRSS() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return -1
	}
	var size, resident int64
	if _, err := fmt.Sscan(string(b), &size, &resident); err != nil {
		return -1
	}
	return resident * int64(os.Getpagesize())
}

func hexField(name string, v *string) ([]byte, error) {
	if v == nil {
		return nil, fmt.Errorf("missing %q (hex)", name)
	}
	b, err := hex.DecodeString(*v)
	if err != nil {
		return nil, fmt.Errorf("%q is not hex: %v", name, err)
	}
	return b, nil
}
