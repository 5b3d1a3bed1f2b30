// SPDX-License-Identifier: MPL-2.0

package main

// Packet and stream vectors captured from real memberlist 0.2.2 nodes. Three
// nodes run in this process on a recording in-memory transport of our own;
// every datagram and every stream write is kept (also the ones the transport
// then drops to simulate a failure), decoded with the receive paths of
// receive.go, and a deduplicated sample is emitted.

import (
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	ml "github.com/hashicorp/memberlist"
)

// ---- recording transport ----

type captured struct {
	stream   bool
	role     string // streams: "dialer" or "responder"
	from, to string // node names ("injector": bytes we wrote ourselves)
	data     []byte
}

type recNet struct {
	mu        sync.Mutex
	byAddr    map[string]*recTransport
	byName    map[string]*recTransport
	caps      []captured
	dropUDP   map[[2]string]bool // (from, to) pairs whose datagrams are lost
	noStreams map[string]bool    // nodes nobody can open a stream to or from
}

func newRecNet() *recNet {
	return &recNet{
		byAddr:    map[string]*recTransport{},
		byName:    map[string]*recTransport{},
		dropUDP:   map[[2]string]bool{},
		noStreams: map[string]bool{},
	}
}

func (n *recNet) record(c captured) {
	n.mu.Lock()
	n.caps = append(n.caps, c)
	n.mu.Unlock()
}

// cutUDP makes datagrams between a and b (both ways) get lost, or work again.
func (n *recNet) cutUDP(a, b string, cut bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.dropUDP[[2]string{a, b}] = cut
	n.dropUDP[[2]string{b, a}] = cut
}

func (n *recNet) cutStreams(node string, cut bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.noStreams[node] = cut
}

type recTransport struct {
	net      *recNet
	name     string
	ip       net.IP // what FinalAdvertiseAddr returns (4 or 16 bytes)
	port     int
	packetCh chan *ml.Packet
	streamCh chan net.Conn
}

var _ ml.NodeAwareTransport = (*recTransport)(nil)

func (n *recNet) newTransport(name string, ip net.IP, port int) *recTransport {
	t := &recTransport{net: n, name: name, ip: ip, port: port,
		packetCh: make(chan *ml.Packet, 4096), streamCh: make(chan net.Conn, 64)}
	n.mu.Lock()
	n.byAddr[t.addr()] = t
	n.byName[name] = t
	n.mu.Unlock()
	return t
}

func (t *recTransport) addr() string { return net.JoinHostPort(t.ip.String(), fmt.Sprint(t.port)) }

func (t *recTransport) FinalAdvertiseAddr(string, int) (net.IP, int, error) {
	return t.ip, t.port, nil
}

func (t *recTransport) peer(a ml.Address) (*recTransport, error) {
	t.net.mu.Lock()
	defer t.net.mu.Unlock()
	var p *recTransport
	if a.Name != "" {
		p = t.net.byName[a.Name]
	} else {
		p = t.net.byAddr[a.Addr]
	}
	if p == nil {
		return nil, fmt.Errorf("no route to %s", a.String())
	}
	return p, nil
}

func (t *recTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	return t.WriteToAddress(b, ml.Address{Addr: addr})
}

func (t *recTransport) WriteToAddress(b []byte, a ml.Address) (time.Time, error) {
	now := time.Now()
	p, err := t.peer(a)
	if err != nil {
		return now, err
	}
	data := append([]byte(nil), b...)
	t.net.record(captured{from: t.name, to: p.name, data: data})
	t.net.mu.Lock()
	lost := t.net.dropUDP[[2]string{t.name, p.name}]
	t.net.mu.Unlock()
	if lost {
		return now, nil
	}
	select {
	case p.packetCh <- &ml.Packet{Buf: data, From: &net.UDPAddr{IP: t.ip, Port: t.port}, Timestamp: now}:
	default: // receiver gone or flooded: the datagram is lost
	}
	return now, nil
}

func (t *recTransport) PacketCh() <-chan *ml.Packet { return t.packetCh }

func (t *recTransport) IngestPacket(conn net.Conn, addr net.Addr, now time.Time, shouldClose bool) error {
	return fmt.Errorf("not supported")
}

func (t *recTransport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	return t.DialAddressTimeout(ml.Address{Addr: addr}, timeout)
}

func (t *recTransport) DialAddressTimeout(a ml.Address, timeout time.Duration) (net.Conn, error) {
	p, err := t.peer(a)
	if err != nil {
		return nil, err
	}
	t.net.mu.Lock()
	refused := t.net.noStreams[t.name] || t.net.noStreams[p.name]
	t.net.mu.Unlock()
	if refused {
		return nil, fmt.Errorf("dial %s: connection refused", a.Addr)
	}
	c1, c2 := net.Pipe()
	server := &recConn{Conn: c1, net: t.net, role: "responder", from: p.name, to: t.name,
		remote: &net.TCPAddr{IP: t.ip, Port: 40000 + t.port%1000}}
	client := &recConn{Conn: c2, net: t.net, role: "dialer", from: t.name, to: p.name,
		remote: &net.TCPAddr{IP: p.ip, Port: p.port}}
	select {
	case p.streamCh <- server:
		return client, nil
	case <-time.After(timeout):
		c1.Close()
		c2.Close()
		return nil, fmt.Errorf("dial %s: timeout", a.Addr)
	}
}

func (t *recTransport) StreamCh() <-chan net.Conn { return t.streamCh }

func (t *recTransport) IngestStream(conn net.Conn) error {
	t.streamCh <- conn
	return nil
}

func (t *recTransport) Shutdown() error { return nil }

// recConn records each Write: memberlist writes one stream message with one
// Write call (rawSendMsgStream).
type recConn struct {
	net.Conn
	net      *recNet
	role     string
	from, to string
	remote   net.Addr
}

func (c *recConn) Write(b []byte) (int, error) {
	c.net.record(captured{stream: true, role: c.role, from: c.from, to: c.to, data: append([]byte(nil), b...)})
	return c.Conn.Write(b)
}

func (c *recConn) RemoteAddr() net.Addr { return c.remote }

// ---- delegate ----

type testDelegate struct {
	mu     sync.Mutex
	name   string
	meta   []byte
	queued [][]byte
}

func (d *testDelegate) NodeMeta(limit int) []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]byte(nil), d.meta...)
}

func (d *testDelegate) setMeta(m []byte) {
	d.mu.Lock()
	d.meta = m
	d.mu.Unlock()
}

func (d *testDelegate) NotifyMsg([]byte) {}

func (d *testDelegate) GetBroadcasts(overhead, limit int) [][]byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out [][]byte
	used := 0
	for len(d.queued) > 0 && used+overhead+len(d.queued[0]) <= limit {
		used += overhead + len(d.queued[0])
		out = append(out, d.queued[0])
		d.queued = d.queued[1:]
	}
	return out
}

func (d *testDelegate) queue(b []byte) {
	d.mu.Lock()
	d.queued = append(d.queued, b)
	d.mu.Unlock()
}

func (d *testDelegate) LocalState(join bool) []byte {
	return []byte(fmt.Sprintf("local state of %s (join=%v)", d.name, join))
}

func (d *testDelegate) MergeRemoteState([]byte, bool) {}

// ---- configurations and scenario ----

type clusterConfig struct {
	name        string
	keys        [][]byte // keyring order, primary first; none: no encryption
	protocol    uint8
	compression bool
}

func clusterConfigs() []clusterConfig {
	aes128 := fill(16, 0x10)
	return []clusterConfig{
		{name: "plain", protocol: 2, compression: true},
		{name: "no compression", protocol: 2, compression: false},
		{name: "AES-128 v1", keys: [][]byte{aes128}, protocol: 2, compression: true},
		{name: "AES-128 v0 (ProtocolVersion 1)", keys: [][]byte{aes128}, protocol: 1, compression: true},
		{name: "keyring AES-256 primary + 2", keys: [][]byte{fill(32, 0x40), fill(16, 0x10), fill(24, 0x20)}, protocol: 2, compression: true},
	}
}

type clusterNode struct {
	name string
	ml   *ml.Memberlist
	del  *testDelegate
	tr   *recTransport
}

func startNode(n *recNet, cc clusterConfig, name string, ip net.IP, port int) (*clusterNode, error) {
	tr := n.newTransport(name, ip, port)
	del := &testDelegate{name: name, meta: []byte("role=" + name)}
	conf := ml.DefaultLocalConfig()
	conf.Name = name
	conf.BindAddr = "127.0.0.1"
	conf.BindPort = port
	conf.AdvertisePort = port
	conf.Transport = tr
	conf.Delegate = del
	conf.ProtocolVersion = cc.protocol
	conf.EnableCompression = cc.compression
	conf.ProbeInterval = 400 * time.Millisecond
	conf.ProbeTimeout = 100 * time.Millisecond
	conf.GossipInterval = 100 * time.Millisecond
	conf.PushPullInterval = 1500 * time.Millisecond
	conf.TCPTimeout = time.Second
	if verbose {
		conf.LogOutput = os.Stderr
	} else {
		conf.LogOutput = io.Discard
	}
	if len(cc.keys) > 0 {
		ring, err := ml.NewKeyring(cc.keys[1:], cc.keys[0])
		if err != nil {
			return nil, err
		}
		conf.Keyring = ring
	}
	m, err := ml.Create(conf)
	if err != nil {
		return nil, fmt.Errorf("create %s: %v", name, err)
	}
	return &clusterNode{name: name, ml: m, del: del, tr: tr}, nil
}

func (c *clusterNode) stateOf(name string) (ml.NodeStateType, bool) {
	for _, n := range c.ml.Members() {
		if n.Name == name {
			return n.State, true
		}
	}
	return 0, false
}

func (c *clusterNode) node(name string) *ml.Node {
	for _, n := range c.ml.Members() {
		if n.Name == name {
			return n
		}
	}
	return nil
}

func waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return cond()
}

func logf(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "wirevectors: "+format+"\n", args...)
}

// injectStream opens a stream to node as if from outside, writes request and
// returns what the node replied. Only the reply is memberlist's.
func injectStream(n *recNet, to *recTransport, request []byte) []byte {
	c1, c2 := net.Pipe()
	server := &recConn{Conn: c1, net: n, role: "responder", from: to.name, to: "injector",
		remote: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 9), Port: 40009}}
	to.streamCh <- server
	c2.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c2.Write(request); err != nil {
		return nil
	}
	reply, _ := io.ReadAll(c2)
	c2.Close()
	return reply
}

// runCluster runs the scenario for one configuration and returns everything
// that was written.
func runCluster(cc clusterConfig) ([]captured, error) {
	n := newRecNet()
	a, err := startNode(n, cc, "go-a", net.IPv4(127, 0, 0, 1).To4(), 7946)
	if err != nil {
		return nil, err
	}
	b, err := startNode(n, cc, "go-b", net.IPv4(127, 0, 0, 1).To4(), 7947)
	if err != nil {
		return nil, err
	}
	// go-c advertises a 16-byte IPv4-mapped address, as a NetTransport bound to
	// 0.0.0.0 does.
	c, err := startNode(n, cc, "go-c", net.IPv4(127, 0, 0, 1).To16(), 7948)
	if err != nil {
		return nil, err
	}
	nodes := []*clusterNode{a, b, c}
	defer func() {
		for _, x := range nodes {
			x.ml.Shutdown()
		}
	}()

	// Phase 1: join (go-b by address, go-c by name/address), gossip, probes,
	// periodic push/pull.
	if _, err := b.ml.Join([]string{"127.0.0.1:7946"}); err != nil {
		return nil, fmt.Errorf("go-b join: %v", err)
	}
	if _, err := c.ml.Join([]string{"go-a/127.0.0.1:7946"}); err != nil {
		return nil, fmt.Errorf("go-c join: %v", err)
	}
	if !waitFor(5*time.Second, func() bool {
		return a.ml.NumMembers() == 3 && b.ml.NumMembers() == 3 && c.ml.NumMembers() == 3
	}) {
		return nil, fmt.Errorf("cluster did not converge")
	}
	time.Sleep(2 * time.Second)

	// Phase 2: user messages, user broadcasts, a meta update, an error reply.
	if to := a.node("go-b"); to != nil {
		if err := a.ml.SendBestEffort(to, []byte("best-effort hello from go-a")); err != nil {
			return nil, err
		}
		if err := a.ml.SendReliable(to, []byte("reliable hello from go-a")); err != nil {
			return nil, err
		}
	}
	a.del.queue([]byte("user broadcast 1 from go-a"))
	a.del.queue([]byte("user broadcast 2 from go-a"))
	b.del.setMeta([]byte("role=go-b;zone=eu-west-1a;version=1.2.3;tags=alpha,beta,gamma;id=42"))
	if err := b.ml.UpdateNode(time.Second); err != nil {
		return nil, fmt.Errorf("go-b update: %v", err)
	}
	request := []byte{ml.WireEncryptMsg, 0, 0, 0, 0} // "encrypted" but no key configured
	if len(cc.keys) > 0 {
		request = []byte{ml.WirePingMsg, 0x80} // plaintext where a key is required
	}
	if reply := injectStream(n, a.tr, request); len(reply) == 0 {
		logf("%s: no error reply to the injected stream", cc.name)
	}
	time.Sleep(time.Second)

	// Phase 3: go-a and go-c lose datagrams between them: probes go indirect
	// through go-b (relayed acks) and over TCP.
	n.cutUDP("go-a", "go-c", true)
	time.Sleep(2 * time.Second)

	// Phase 4: go-c loses all datagrams: indirect probes end in nacks, TCP
	// fallback pings still get acks.
	n.cutUDP("go-b", "go-c", true)
	time.Sleep(2 * time.Second)

	// Phase 5: go-c loses streams too: it is suspected (probes carry
	// [ping, suspect]) and then declared dead.
	n.cutStreams("go-c", true)
	if !waitFor(12*time.Second, func() bool {
		_, ok := a.stateOf("go-c") // Members() leaves out dead and left nodes
		return !ok
	}) {
		logf("%s: go-c was not declared dead in time", cc.name)
	}
	time.Sleep(2 * time.Second) // a push/pull between go-a and go-b lists go-c as dead

	// Phase 6: go-c comes back and refutes.
	n.cutUDP("go-a", "go-c", false)
	n.cutUDP("go-b", "go-c", false)
	n.cutStreams("go-c", false)
	waitFor(4*time.Second, func() bool {
		s, ok := a.stateOf("go-c")
		return ok && s == ml.StateAlive
	})
	time.Sleep(500 * time.Millisecond)

	// Phase 7: go-b leaves; a push/pull interval later the others still list it as left.
	if err := b.ml.Leave(time.Second); err != nil {
		logf("%s: go-b leave: %v", cc.name, err)
	}
	time.Sleep(2 * time.Second)
	for _, x := range nodes {
		x.ml.Shutdown()
	}
	time.Sleep(100 * time.Millisecond)

	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]captured(nil), n.caps...), nil
}

// ---- sampling ----

var typeNames = map[int]string{0: "ping", 1: "indirectPing", 2: "ack", 3: "suspect", 4: "alive", 5: "dead",
	6: "pushPull", 8: "user", 11: "nack", 13: "err"}

func leafLabel(m obj) string {
	t := m.get("type").(int)
	name := typeNames[t]
	if name == "" {
		name = fmt.Sprintf("type%d", t)
	}
	f, _ := m.get("fields").(obj)
	switch t {
	case 4:
		if f.get("meta") != nil {
			name += "+meta"
		}
		if a, ok := f.get("addr").(string); ok && len(a) == 32 {
			name += "(ip16)"
		}
	case 2:
		if f.get("payload") != nil {
			name += "+payload"
		}
	case 5:
		if f.get("node") == f.get("from") {
			name += "(leave)"
		}
	}
	return name
}

// leafSummary lists leaf labels, collapsing runs: "ping, alive×2".
func leafSummary(msgs []obj) string {
	var parts []string
	for i := 0; i < len(msgs); {
		l := leafLabel(msgs[i])
		j := i + 1
		for j < len(msgs) && leafLabel(msgs[j]) == l {
			j++
		}
		if j-i > 1 {
			l = fmt.Sprintf("%s×%d", l, j-i)
		}
		parts = append(parts, l)
		i = j
	}
	return strings.Join(parts, ", ")
}

func layerSummary(layers []string) string {
	if len(layers) == 0 {
		return "bare"
	}
	return strings.Join(layers, " > ")
}

type sample struct {
	sig  string
	name string
	v    obj
}

const maxPacketsPerConfig = 25

func keysHex(keys [][]byte) []string {
	out := []string{}
	for _, k := range keys {
		out = append(out, hex.EncodeToString(k))
	}
	return out
}

func clusterVectors() ([]obj, error) {
	// The configurations run side by side: each has its own network, and the
	// scenario is paced by timers, not by CPU.
	configs := clusterConfigs()
	type run struct {
		caps    []captured
		err     error
		seconds float64
	}
	runs := make([]run, len(configs))
	var wg sync.WaitGroup
	for i, cc := range configs {
		wg.Add(1)
		go func(i int, cc clusterConfig) {
			defer wg.Done()
			start := time.Now()
			caps, err := runCluster(cc)
			runs[i] = run{caps, err, time.Since(start).Seconds()}
		}(i, cc)
	}
	wg.Wait()

	var out []obj
	var labelSources []labelSource
	for i, cc := range configs {
		caps, err := runs[i].caps, runs[i].err
		if err != nil {
			return nil, fmt.Errorf("%s: %v", cc.name, err)
		}
		packets := map[string]*sample{}
		counts := map[string]int{}
		streams := map[string]*sample{}
		nPackets, nStreams := 0, 0
		for _, c := range caps {
			if c.from == "injector" {
				continue
			}
			if !c.stream {
				nPackets++
				layers, msgs, err := receivePacket(c.data, cc.keys, "")
				if err != nil {
					return nil, fmt.Errorf("%s: packet %s→%s %x: %v", cc.name, c.from, c.to, c.data, err)
				}
				sig := layerSummary(layers) + " | " + leafSummary(msgs)
				counts[sig]++
				if packets[sig] == nil {
					packets[sig] = &sample{sig: sig, name: fmt.Sprintf("%s→%s: %s", c.from, c.to, sig), v: obj{
						{"kind", "packet"}, {"name", ""}, {"keys", keysHex(cc.keys)}, {"label", ""},
						{"hex", hex.EncodeToString(c.data)}, {"layers", nonNil(layers)}, {"messages", msgs}}}
				}
				continue
			}
			nStreams++
			layers, msgs, err := receiveStream(c.data, cc.keys, "")
			if err != nil {
				return nil, fmt.Errorf("%s: stream %s %s→%s %x: %v", cc.name, c.role, c.from, c.to, c.data, err)
			}
			desc := streamDesc(msgs[0])
			sig := fmt.Sprintf("%s | %s %s", layerSummary(layers), c.role, desc)
			if streams[sig] == nil {
				streams[sig] = &sample{sig: sig, name: fmt.Sprintf("%s %s→%s: %s %s", c.role, c.from, c.to, layerSummary(layers), desc), v: obj{
					{"kind", "stream"}, {"name", ""}, {"keys", keysHex(cc.keys)}, {"label", ""},
					{"hex", hex.EncodeToString(c.data)}, {"layers", nonNil(layers)}, {"messages", msgs}}}
			}
		}
		chosen := choosePackets(packets, counts)
		var streamList []*sample
		for _, s := range streams {
			streamList = append(streamList, s)
		}
		sort.Slice(streamList, func(i, j int) bool { return streamList[i].sig < streamList[j].sig })
		logf("%s: %d datagrams (%d kinds, %d kept), %d stream messages (%d kinds) in %.1f s",
			cc.name, nPackets, len(packets), len(chosen), nStreams, len(streams), runs[i].seconds)
		for i, s := range chosen {
			s.v[1].V = fmt.Sprintf("packet %s #%02d %s", cc.name, i+1, s.name)
			out = append(out, s.v)
		}
		for i, s := range streamList {
			s.v[1].V = fmt.Sprintf("stream %s #%02d %s", cc.name, i+1, s.name)
			out = append(out, s.v)
		}
		labelSources = append(labelSources, labelSource{cc, chosen, streamList})
	}
	labelled, err := labelledVectors(labelSources)
	if err != nil {
		return nil, err
	}
	return append(out, labelled...), nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func streamDesc(m obj) string {
	t := m.get("type").(int)
	switch t {
	case 6:
		name := "pushPull"
		if m.get("header").(obj).get("join") == true {
			name += "(join)"
		}
		// Which node states the records carry (alive, suspect, dead, left).
		seen := map[int64]bool{}
		for _, n := range m.get("nodes").([]obj) {
			seen[n.get("state").(int64)] = true
		}
		var states []string
		for i, s := range []string{"alive", "suspect", "dead", "left"} {
			if seen[int64(i)] {
				states = append(states, s)
			}
		}
		return name + " [" + strings.Join(states, ",") + "]"
	case 8:
		return "user"
	}
	return typeNames[t]
}

// choosePackets keeps every kind of datagram if they fit, else the rarest
// kinds first; the result is sorted by signature.
func choosePackets(packets map[string]*sample, counts map[string]int) []*sample {
	var all []*sample
	for _, s := range packets {
		all = append(all, s)
	}
	sort.Slice(all, func(i, j int) bool {
		if counts[all[i].sig] != counts[all[j].sig] {
			return counts[all[i].sig] < counts[all[j].sig]
		}
		return all[i].sig < all[j].sig
	})
	if len(all) > maxPacketsPerConfig {
		all = all[:maxPacketsPerConfig]
	}
	sort.Slice(all, func(i, j int) bool { return all[i].sig < all[j].sig })
	return all
}

// ---- labelled forms, assembled from captured pieces ----

type labelSource struct {
	cc      clusterConfig
	packets []*sample
	streams []*sample
}

// labelledPerConfig says how many labelled packets and stream messages to
// assemble from each configuration's samples.
var labelledPerConfig = map[string][2]int{
	"plain":                          {2, 8},
	"AES-128 v1":                     {3, 8},
	"AES-128 v0 (ProtocolVersion 1)": {2, 2},
	"keyring AES-256 primary + 2":    {1, 1},
}

const testLabel = "prod"

func labelHeader(label string) []byte {
	return append([]byte{hasLabelMsg, byte(len(label))}, label...)
}

func sampleHex(s *sample) []byte {
	b, _ := hex.DecodeString(s.v.get("hex").(string))
	return b
}

func labelledVectors(sources []labelSource) ([]obj, error) {
	var out []obj
	add := func(kind, name string, keys [][]byte, data []byte) error {
		var layers []string
		var msgs []obj
		var err error
		if kind == "packet" {
			layers, msgs, err = receivePacket(data, keys, testLabel)
		} else {
			layers, msgs, err = receiveStream(data, keys, testLabel)
		}
		if err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		out = append(out, obj{{"kind", kind}, {"name", name}, {"keys", keysHex(keys)}, {"label", testLabel},
			{"hex", hex.EncodeToString(data)}, {"layers", nonNil(layers)}, {"messages", msgs}})
		return nil
	}
	for _, src := range sources {
		cc := src.cc
		limits := labelledPerConfig[cc.name]
		// Packets with different layer stacks.
		seenLayers := map[string]bool{}
		np := 0
		for _, p := range src.packets {
			layers := strings.Join(p.v.get("layers").([]string), ">")
			if seenLayers[layers] || np >= limits[0] {
				continue
			}
			seenLayers[layers] = true
			np++
			raw := sampleHex(p)
			var data []byte
			if len(cc.keys) == 0 {
				data = append(labelHeader(testLabel), raw...)
			} else {
				vsn := raw[0]
				plain, err := ml.ExportDecryptPayload(cc.keys, raw, nil)
				if err != nil {
					return nil, err
				}
				env, err := ml.ExportEncryptPayload(vsn, cc.keys[0], plain, []byte(testLabel))
				if err != nil {
					return nil, err
				}
				data = append(labelHeader(testLabel), env...)
			}
			name := fmt.Sprintf("packet %s (label, assembled) #%d from %s", cc.name, np, strings.TrimPrefix(p.v.get("name").(string), "packet "+cc.name+" "))
			if err := add("packet", name, cc.keys, data); err != nil {
				return nil, err
			}
		}
		// Stream messages, one of each role and message type first (push/pull
		// variants later); dialers get the label header.
		rank := map[*sample]int{}
		perKind := map[string]int{}
		for _, s := range src.streams {
			kind := strings.SplitN(s.sig, " [", 2)[0]
			rank[s] = perKind[kind]
			perKind[kind]++
		}
		streams := append([]*sample(nil), src.streams...)
		sort.SliceStable(streams, func(i, j int) bool { return rank[streams[i]] < rank[streams[j]] })
		ns := 0
		for _, s := range streams {
			if ns >= limits[1] {
				break
			}
			raw := sampleHex(s)
			dialer := strings.Contains(s.name, "dialer ")
			var data []byte
			if len(cc.keys) == 0 {
				data = raw
			} else {
				vsn := raw[5]
				plain, err := ml.ExportDecryptPayload(cc.keys, raw[5:], raw[:5])
				if err != nil {
					return nil, err
				}
				aad := streamAAD(vsn, len(plain), testLabel)
				env, err := ml.ExportEncryptPayload(vsn, cc.keys[0], plain, aad)
				if err != nil {
					return nil, err
				}
				data = append(append([]byte(nil), aad[:5]...), env...)
			}
			if dialer {
				data = append(labelHeader(testLabel), data...)
			} else if len(cc.keys) == 0 {
				continue // a plain reply is unchanged by the label
			}
			ns++
			name := fmt.Sprintf("stream %s (label, assembled) from %s", cc.name, strings.TrimPrefix(s.v.get("name").(string), "stream "+cc.name+" "))
			if err := add("stream", name, cc.keys, data); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}
