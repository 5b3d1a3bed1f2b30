// SPDX-License-Identifier: MPL-2.0

// Command peer runs real memberlist 0.2.2 nodes on real sockets and lets
// another process drive them: one JSON command per line on stdin, one JSON
// event per line on stdout. The interop tests use it to build mixed Go and
// TypeScript clusters, the benchmarks to run many Go nodes beside ours.
// tests/interop/_peer.ts is its driver; the protocol is described there and
// in commands.go.
//
//	peer [--nodes N | --names a,b,c] [--name-prefix go-] [--bind 127.0.0.1]
//	     [--port P] [--profile lan|wan|local] [overrides...] [--log] [--metrics]
//
// Once every node is up it writes {"event":"ready","nodes":[...]}. On EOF on
// stdin, or the exit command, it shuts every node down (without a leave) and
// exits 0. Startup errors go to stderr with exit status 2.
//
// It is built against an overlay GOPATH that adds tests/interop/go/shim to
// memberlist (see tests/interop/_go.ts).
package main

import (
	"bufio"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"sync"
	"time"

	ml "github.com/hashicorp/memberlist"
)

// keyList collects the repeatable --key flag.
type keyList [][]byte

func (k *keyList) String() string { return fmt.Sprintf("%d keys", len(*k)) }

func (k *keyList) Set(s string) error {
	b, err := hex.DecodeString(s)
	if err != nil {
		return fmt.Errorf("not hex: %v", err)
	}
	if err := ml.ValidateKey(b); err != nil {
		return err
	}
	*k = append(*k, b)
	return nil
}

type options struct {
	nodes      int
	names      []string
	bind       string
	port       int
	profile    string
	keys       keyList
	meta       []byte
	log        bool
	metrics    bool
	events     map[string]bool
	applyFlags func(*ml.Config) // the overrides given on the command line
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "peer: "+format+"\n", args...)
	os.Exit(2)
}

func parseFlags() *options {
	o := &options{}
	fs := flag.NewFlagSet("peer", flag.ExitOnError)
	fs.IntVar(&o.nodes, "nodes", 1, "number of nodes")
	prefix := fs.String("name-prefix", "go-", "node names are <prefix>0, <prefix>1, ...")
	names := fs.String("names", "", "comma-separated node names (instead of --name-prefix)")
	fs.StringVar(&o.bind, "bind", "127.0.0.1", "bind and advertise address")
	fs.IntVar(&o.port, "port", 0, "first port (0: free ports); node i binds port+i")
	fs.StringVar(&o.profile, "profile", "lan", "base config: lan, wan or local (Go's Default*Config)")
	probeInterval := fs.Int("probe-interval-ms", 0, "ProbeInterval")
	probeTimeout := fs.Int("probe-timeout-ms", 0, "ProbeTimeout")
	suspicionMult := fs.Int("suspicion-mult", 0, "SuspicionMult")
	suspicionMaxMult := fs.Int("suspicion-max-timeout-mult", 0, "SuspicionMaxTimeoutMult")
	gossipInterval := fs.Int("gossip-interval-ms", 0, "GossipInterval")
	gossipNodes := fs.Int("gossip-nodes", 0, "GossipNodes")
	pushPull := fs.Int("push-pull-interval-ms", 0, "PushPullInterval (0 disables it when given)")
	toTheDead := fs.Int("gossip-to-the-dead-ms", 0, "GossipToTheDeadTime")
	reclaim := fs.Int("dead-node-reclaim-ms", 0, "DeadNodeReclaimTime")
	tcpTimeout := fs.Int("tcp-timeout-ms", 0, "TCPTimeout")
	retransmit := fs.Int("retransmit-mult", 0, "RetransmitMult")
	indirect := fs.Int("indirect-checks", 0, "IndirectChecks")
	awarenessMax := fs.Int("awareness-max-multiplier", 0, "AwarenessMaxMultiplier")
	disableTCPPings := fs.Bool("disable-tcp-pings", false, "DisableTcpPings")
	compression := fs.Bool("enable-compression", true, "EnableCompression")
	protocol := fs.Int("protocol-version", 0, "ProtocolVersion")
	dCur := fs.Int("delegate-protocol-version", 0, "DelegateProtocolVersion")
	dMin := fs.Int("delegate-protocol-min", 0, "DelegateProtocolMin")
	dMax := fs.Int("delegate-protocol-max", 0, "DelegateProtocolMax")
	fs.Var(&o.keys, "key", "encryption key in hex (repeatable; the first is the primary)")
	verifyIn := fs.Bool("gossip-verify-incoming", true, "GossipVerifyIncoming")
	verifyOut := fs.Bool("gossip-verify-outgoing", true, "GossipVerifyOutgoing")
	meta := fs.String("meta", "", "initial node meta in hex")
	fs.BoolVar(&o.log, "log", false, "memberlist logs to stderr")
	fs.BoolVar(&o.metrics, "metrics", false, "keep go-metrics counters (read with the counters command)")
	events := fs.String("events", "all", "event kinds written: all, none, or a list of join,leave,update,msg,merge")
	fs.Parse(os.Args[1:])
	if fs.NArg() > 0 {
		fail("unexpected argument %q", fs.Arg(0))
	}

	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	if *names != "" {
		o.names = strings.Split(*names, ",")
		if set["nodes"] && o.nodes != len(o.names) {
			fail("--nodes %d and %d --names disagree", o.nodes, len(o.names))
		}
		o.nodes = len(o.names)
	} else {
		if o.nodes < 1 {
			fail("--nodes must be at least 1")
		}
		for i := 0; i < o.nodes; i++ {
			o.names = append(o.names, fmt.Sprintf("%s%d", *prefix, i))
		}
	}
	seen := map[string]bool{}
	for _, n := range o.names {
		if n == "" || seen[n] {
			fail("node names must be unique and not empty: %q", *names)
		}
		seen[n] = true
	}
	if o.port < 0 || o.port+o.nodes-1 > 65535 {
		fail("--port %d leaves no room for %d nodes", o.port, o.nodes)
	}
	if *meta != "" {
		b, err := hex.DecodeString(*meta)
		if err != nil {
			fail("--meta is not hex: %v", err)
		}
		if len(b) > ml.MetaMaxSize {
			fail("--meta is %d bytes, more than %d", len(b), ml.MetaMaxSize)
		}
		o.meta = b
	}
	switch *events {
	case "all":
	case "none":
		o.events = map[string]bool{}
	default:
		o.events = map[string]bool{}
		for _, e := range strings.Split(*events, ",") {
			switch e {
			case "join", "leave", "update", "msg", "merge":
				o.events[e] = true
			default:
				fail("--events: unknown event kind %q", e)
			}
		}
	}
	switch o.profile {
	case "lan", "wan", "local":
	default:
		fail("--profile must be lan, wan or local, not %q", o.profile)
	}

	ms := func(v int) time.Duration { return time.Duration(v) * time.Millisecond }
	o.applyFlags = func(c *ml.Config) {
		if set["probe-interval-ms"] {
			c.ProbeInterval = ms(*probeInterval)
		}
		if set["probe-timeout-ms"] {
			c.ProbeTimeout = ms(*probeTimeout)
		}
		if set["suspicion-mult"] {
			c.SuspicionMult = *suspicionMult
		}
		if set["suspicion-max-timeout-mult"] {
			c.SuspicionMaxTimeoutMult = *suspicionMaxMult
		}
		if set["gossip-interval-ms"] {
			c.GossipInterval = ms(*gossipInterval)
		}
		if set["gossip-nodes"] {
			c.GossipNodes = *gossipNodes
		}
		if set["push-pull-interval-ms"] {
			c.PushPullInterval = ms(*pushPull)
		}
		if set["gossip-to-the-dead-ms"] {
			c.GossipToTheDeadTime = ms(*toTheDead)
		}
		if set["dead-node-reclaim-ms"] {
			c.DeadNodeReclaimTime = ms(*reclaim)
		}
		if set["tcp-timeout-ms"] {
			c.TCPTimeout = ms(*tcpTimeout)
		}
		if set["retransmit-mult"] {
			c.RetransmitMult = *retransmit
		}
		if set["indirect-checks"] {
			c.IndirectChecks = *indirect
		}
		if set["awareness-max-multiplier"] {
			c.AwarenessMaxMultiplier = *awarenessMax
		}
		if set["disable-tcp-pings"] {
			c.DisableTcpPings = *disableTCPPings
		}
		c.EnableCompression = *compression
		if set["protocol-version"] {
			c.ProtocolVersion = uint8(*protocol)
		}
		if set["delegate-protocol-version"] {
			c.DelegateProtocolVersion = uint8(*dCur)
		}
		if set["delegate-protocol-min"] {
			c.DelegateProtocolMin = uint8(*dMin)
		}
		if set["delegate-protocol-max"] {
			c.DelegateProtocolMax = uint8(*dMax)
		}
		c.GossipVerifyIncoming = *verifyIn
		c.GossipVerifyOutgoing = *verifyOut
	}
	return o
}

func baseConfig(profile string) *ml.Config {
	switch profile {
	case "wan":
		return ml.DefaultWANConfig()
	case "local":
		return ml.DefaultLocalConfig()
	}
	return ml.DefaultLANConfig()
}

// peer is the process: its nodes and its output.
type peer struct {
	nodes    []*node
	out      *output
	opts     *options
	metrics  *counterSink   // nil without --metrics
	inflight sync.WaitGroup // commands still running
	exitMu   sync.Once
}

func (p *peer) startNode(i int) (*node, error) {
	o := p.opts
	name := o.names[i]
	n := newNode(i, name, p.out, append([]byte(nil), o.meta...))

	logger := log.New(io.Discard, "", 0)
	if o.log {
		logger = log.New(os.Stderr, "["+name+"] ", log.Ltime|log.Lmicroseconds)
	}
	port := 0
	if o.port > 0 {
		port = o.port + i
	}
	t, err := newFaultTransport(o.bind, port, logger)
	if err != nil {
		return nil, fmt.Errorf("cannot start node %s: %v", name, err)
	}
	n.t = t

	c := baseConfig(o.profile)
	o.applyFlags(c)
	c.Name = name
	c.BindAddr = o.bind
	c.BindPort = t.port()
	c.AdvertisePort = t.port()
	c.Transport = t
	c.Logger = logger
	c.LogOutput = nil
	c.Delegate = n
	c.Events = n
	// Always a keyring, so that the keyring command can turn encryption on
	// later; with no key in it, encryption is off (EncryptionEnabled).
	var primary []byte
	if len(o.keys) > 0 {
		primary = o.keys[0]
	}
	kr, err := ml.NewKeyring(o.keys, primary)
	if err != nil {
		t.Shutdown()
		return nil, fmt.Errorf("cannot start node %s: %v", name, err)
	}
	c.Keyring = kr
	n.conf = c
	n.queue.RetransmitMult = c.RetransmitMult

	m, err := ml.Create(c)
	if err != nil {
		t.Shutdown()
		return nil, fmt.Errorf("cannot start node %s: %v", name, err)
	}
	n.list.Store(m)
	return n, nil
}

// shutdownAll stops every node still running, without a leave.
func (p *peer) shutdownAll() {
	var wg sync.WaitGroup
	for _, n := range p.nodes {
		if n == nil || !n.down.CompareAndSwap(false, true) {
			continue
		}
		wg.Add(1)
		go func(n *node) {
			defer wg.Done()
			n.list.Load().Shutdown()
		}(n)
	}
	wg.Wait()
}

// exitGrace bounds how long exit waits for commands still running (a join
// to an address that does not answer lasts up to TCPTimeout).
const exitGrace = 15 * time.Second

// exit lets the commands still running finish (for a while), shuts every
// node down, calls before (if not nil), writes out the queued lines and exits 0.
func (p *peer) exit(before func()) {
	p.exitMu.Do(func() {
		finished := make(chan struct{})
		go func() { p.inflight.Wait(); close(finished) }()
		select {
		case <-finished:
		case <-time.After(exitGrace):
			fmt.Fprintln(os.Stderr, "peer: exiting with commands still running")
		}
		p.shutdownAll()
		if before != nil {
			before()
		}
		p.out.close()
		os.Exit(0)
	})
	select {} // another goroutine is exiting
}

type readyNode struct {
	Name string `json:"name"`
	Addr string `json:"addr"`
	Port int    `json:"port"`
}

func main() {
	o := parseFlags()
	p := &peer{opts: o, out: newOutput(os.Stdout, o.events)}
	if o.metrics {
		sink, err := installCounterSink()
		if err != nil {
			fail("cannot install the metrics sink: %v", err)
		}
		p.metrics = sink
	}
	p.nodes = make([]*node, o.nodes)
	ready := make([]readyNode, o.nodes)
	for i := range p.nodes {
		n, err := p.startNode(i)
		if err != nil {
			p.shutdownAll()
			p.out.close()
			fail("%v", err)
		}
		p.nodes[i] = n
		ln := n.list.Load().LocalNode()
		ready[i] = readyNode{Name: ln.Name, Addr: ln.Addr.String(), Port: int(ln.Port)}
	}
	p.out.emit(struct {
		Event string      `json:"event"`
		Nodes []readyNode `json:"nodes"`
		Pid   int         `json:"pid"`
	}{"ready", ready, os.Getpid()})

	in := bufio.NewReaderSize(os.Stdin, 1<<20)
	for {
		line, err := in.ReadBytes('\n')
		if len(strings.TrimSpace(string(line))) > 0 {
			p.dispatch(line)
		}
		if err != nil {
			break // EOF (or a broken stdin): the driver is gone or done
		}
	}
	p.exit(nil)
}
