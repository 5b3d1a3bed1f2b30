// SPDX-License-Identifier: MPL-2.0

// Command dissemination measures how fast memberlist 0.2.2 spreads a meta
// update through a cluster, on its own in-memory MockNetwork and in real time
// (Go has no virtual clock). It is the Go side of the TypeScript simulator's
// "disseminate" scenario (tools/sim.ts):
//
//  1. start N nodes (DefaultLANConfig, or --profile) on one MockNetwork,
//     probing and gossip on, each behind a receive buffer (see
//     bufferedTransport: without it 0.2.2's MockNetwork deadlocks at scale);
//  2. converge: with --setup join (default) every node joins node 0, then
//     joins it again to pull the full table; with --setup inject the
//     converged tables are installed directly, as the simulator does. Then
//     wait until every node lists N members. Meanwhile every broadcast queue
//     is emptied every 50 ms: each node would otherwise re-gossip the alive
//     message of every node it learns of, up to 16 times at N = 1000, which
//     on two cores overloads the process until probes time out and healthy
//     nodes are declared dead;
//  3. empty every broadcast queue (what is left is setup chatter everyone has
//     already heard), then let the cluster run --steady-ms (5 s);
//  4. one node changes its meta and calls UpdateNode; each other node's
//     NotifyUpdate for it is timed, until all have fired or --max-ms passed.
//
// It prints one JSON line:
//
//	{"lang":"go","nodes":N,"informed":{"p50","p99","p9999","p100","count","of"},
//	 "setupMs":...,"heapBytes":...,...}
//
// informed times are ms after UpdateNode was called; a percentile is the time
// by which that share of the N-1 other nodes knew, null if they never all did
// (as in the simulator). heapBytes is the live Go heap at the end, with all
// N nodes running.
//
//	dissemination [--nodes 1000] [--setup join|inject] [--profile lan|wan|local]
//	              [--steady-ms 5000] [--max-ms 60000] [--seed 1] [-v]
//
// -v prints progress and node 0's memberlist log on stderr, and a goroutine
// profile when something times out.
//
// Everything runs in real time in one process, so the process must keep up
// with N nodes' probes: on two cores N = 1000 takes about 14 s, 15 s of CPU
// and 1 GB of RSS (join setup); at N = 2000 it no longer keeps up (acks come
// late, indirect probes pile up, healthy nodes are suspected) and the times
// measure that overload, not gossip.
//
// Built by buildGoProgram("bench/go/dissemination") in tests/interop/_go.ts.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"math/rand"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	ml "github.com/hashicorp/memberlist"
)

// bufferedTransport gives a MockTransport a receive buffer, as a socket has.
// 0.2.2's MockNetwork hands each datagram over an unbuffered channel, and
// memberlist answers pings (and relays indirect ones) from its receive loop,
// so two nodes that ping each other at the same moment block each other's
// receive loops for good; with a few hundred nodes this soon happens and then
// spreads to every node that sends to them. Here one goroutine per node moves
// datagrams into a buffered channel without ever blocking, and loses them
// when the buffer is full, as a full socket buffer would.
type bufferedTransport struct {
	*ml.MockTransport
	packets chan *ml.Packet
}

const receiveBuffer = 4096

var droppedPackets atomic.Int64

func newBufferedTransport(t *ml.MockTransport) *bufferedTransport {
	b := &bufferedTransport{MockTransport: t, packets: make(chan *ml.Packet, receiveBuffer)}
	go func() {
		for p := range t.PacketCh() {
			select {
			case b.packets <- p:
			default:
				droppedPackets.Add(1)
			}
		}
	}()
	return b
}

func (b *bufferedTransport) PacketCh() <-chan *ml.Packet { return b.packets }

// metaDelegate serves a node's meta; only the source's ever changes.
type metaDelegate struct {
	mu   sync.Mutex
	meta []byte
}

func (d *metaDelegate) NodeMeta(limit int) []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.meta
}
func (d *metaDelegate) NotifyMsg([]byte)                           {}
func (d *metaDelegate) GetBroadcasts(overhead, limit int) [][]byte { return nil }
func (d *metaDelegate) LocalState(join bool) []byte                { return nil }
func (d *metaDelegate) MergeRemoteState(buf []byte, join bool)     {}

// watcher records when its node first hears of the source's update (the
// source's own NotifyUpdate, fired by UpdateNode itself, is not counted).
type watcher struct {
	self   string
	source *atomic.Value // the source's name, set just before the update
	start  *atomic.Int64 // UnixNano of the UpdateNode call
	report func(ms float64)
	fired  atomic.Bool
}

func (w *watcher) NotifyJoin(*ml.Node)  {}
func (w *watcher) NotifyLeave(*ml.Node) {}
func (w *watcher) NotifyUpdate(n *ml.Node) {
	src, _ := w.source.Load().(string)
	if src == "" || n.Name != src || w.self == src || !w.fired.CompareAndSwap(false, true) {
		return
	}
	w.report(float64(time.Now().UnixNano()-w.start.Load()) / 1e6)
}

type result struct {
	Lang     string `json:"lang"`
	Nodes    int    `json:"nodes"`
	Profile  string `json:"profile"`
	Setup    string `json:"setup"`
	Informed struct {
		P50   *float64 `json:"p50"`
		P99   *float64 `json:"p99"`
		P9999 *float64 `json:"p9999"`
		P100  *float64 `json:"p100"`
		Count int      `json:"count"`
		Of    int      `json:"of"`
	} `json:"informed"`
	SetupMs float64 `json:"setupMs"`
	// QueuedAtReset is the total length of the broadcast queues emptied
	// after setup; MembersBeforeUpdate the smallest member count any node
	// had just before the update (N when the steady state held).
	QueuedAtReset       int `json:"queuedAtReset"`
	MembersBeforeUpdate int `json:"membersBeforeUpdate"`
	SteadyMs            int `json:"steadyMs"`
	// DroppedPackets counts datagrams lost to full receive buffers.
	DroppedPackets int64 `json:"droppedPackets"`
	// HeapBytes is the live Go heap at the end (after a GC), with every
	// node still running; SysBytes what the Go runtime got from the OS.
	HeapBytes   uint64  `json:"heapBytes"`
	MaxRssBytes int64   `json:"maxRssBytes"`
	CPUMs       float64 `json:"cpuMs"`
	SysBytes    uint64  `json:"sysBytes"`
	Goroutines  int     `json:"goroutines"`
	WallMs      float64 `json:"wallMs"`
}

var verbose bool

func progress(format string, args ...interface{}) {
	if verbose {
		fmt.Fprintf(os.Stderr, "[dissemination] "+format+"\n", args...)
	}
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "dissemination: "+format+"\n", args...)
	os.Exit(1)
}

// percentile is the time by which share of total nodes knew: the k-th
// smallest time, k = ceil(share*total); nil if fewer than k knew.
func percentile(sorted []float64, total int, share float64) *float64 {
	k := int(math.Ceil(share*float64(total) - 1e-9))
	if k < 1 {
		k = 1
	}
	if k > len(sorted) {
		return nil
	}
	v := math.Round(sorted[k-1]*1000) / 1000
	return &v
}

func main() {
	nodes := flag.Int("nodes", 1000, "cluster size")
	setup := flag.String("setup", "join", "how the cluster converges: join or inject")
	profile := flag.String("profile", "lan", "base config: lan, wan or local")
	steadyMs := flag.Int("steady-ms", 5000, "steady state before the update, ms")
	maxMs := flag.Int("max-ms", 60000, "give up waiting for the update to reach everyone after this, ms")
	setupMaxMs := flag.Int("setup-max-ms", 600000, "give up converging after this, ms")
	seed := flag.Int64("seed", 1, "seed for the choice of the source and the injected table order")
	flag.BoolVar(&verbose, "v", false, "progress on stderr")
	flag.Parse()
	if *nodes < 2 || *nodes > 30000 {
		// MockNetwork parses its ports as int16: at most 32767 nodes.
		fail("--nodes must be in [2, 30000]")
	}
	if *setup != "join" && *setup != "inject" {
		fail("--setup must be join or inject")
	}
	rng := rand.New(rand.NewSource(*seed))
	wallStart := time.Now()
	n := *nodes

	// MockNetwork's maps are not locked: make every transport before any
	// node runs.
	network := &ml.MockNetwork{}
	transports := make([]*ml.MockTransport, n)
	names := make([]string, n)
	for i := range transports {
		names[i] = fmt.Sprintf("node-%d", i)
		transports[i] = network.NewTransport(names[i])
	}

	var source atomic.Value
	var start atomic.Int64
	var mu sync.Mutex
	var informed []float64
	allInformed := make(chan struct{})
	report := func(ms float64) {
		mu.Lock()
		defer mu.Unlock()
		informed = append(informed, ms)
		if len(informed) == n-1 {
			close(allInformed)
		}
	}

	quiet := log.New(io.Discard, "", 0)
	setupStart := time.Now()
	lists := make([]*ml.Memberlist, n)
	delegates := make([]*metaDelegate, n)
	for i := range lists {
		var c *ml.Config
		switch *profile {
		case "lan":
			c = ml.DefaultLANConfig()
		case "wan":
			c = ml.DefaultWANConfig()
		case "local":
			c = ml.DefaultLocalConfig()
		default:
			fail("--profile must be lan, wan or local")
		}
		c.Name = names[i]
		c.Transport = newBufferedTransport(transports[i])
		c.Logger = quiet
		if verbose && i == 0 {
			c.Logger = log.New(os.Stderr, "[node-0] ", log.Lmicroseconds)
		}
		delegates[i] = &metaDelegate{meta: []byte("v=1")}
		c.Delegate = delegates[i]
		c.Events = &watcher{self: names[i], source: &source, start: &start, report: report}
		m, err := ml.Create(c)
		if err != nil {
			fail("cannot create %s: %v", names[i], err)
		}
		lists[i] = m
	}
	progress("%d nodes created in %v", n, time.Since(setupStart))

	minMembers := func() int {
		least := n
		for _, m := range lists {
			if k := m.NumMembers(); k < least {
				least = k
			}
		}
		return least
	}
	seedAddr := lists[0].LocalNode().Address()
	joinAll := func(label string) {
		var wg sync.WaitGroup
		work := make(chan int)
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range work {
					// The seed answers a push/pull before it merges it, so
					// joins can outrun it until it refuses more than 127
					// at once: back off and retry.
					for attempt := 1; ; attempt++ {
						_, err := lists[i].Join([]string{seedAddr})
						if err == nil {
							break
						}
						if attempt == 10 {
							progress("%s: %s cannot join: %v", label, names[i], err)
							break
						}
						time.Sleep(time.Duration(attempt) * 50 * time.Millisecond)
					}
				}
			}()
		}
		for i := 1; i < n; i++ {
			work <- i
		}
		close(work)
		wg.Wait()
		progress("%s done after %v: fewest members %d", label, time.Since(setupStart), minMembers())
	}

	// While the cluster forms, every broadcast queue is emptied every 50 ms
	// (see step 2 above).
	stopQuiet := make(chan struct{})
	quietDone := make(chan struct{})
	go func() {
		defer close(quietDone)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				for _, m := range lists {
					ml.PeerResetBroadcasts(m)
				}
			case <-stopQuiet:
				return
			}
		}
	}()
	if *setup == "inject" {
		ml.PeerInjectMembers(lists, rng.Shuffle)
		progress("tables installed after %v: fewest members %d", time.Since(setupStart), minMembers())
	} else {
		// Node 0 ends up knowing everyone; a second join pulls its full
		// table. Push/pull fills what is missing after that.
		joinAll("first joins")
		joinAll("second joins")
	}
	close(stopQuiet)
	<-quietDone
	deadline := setupStart.Add(time.Duration(*setupMaxMs) * time.Millisecond)
	for least := minMembers(); least < n; least = minMembers() {
		if time.Now().After(deadline) {
			if verbose {
				pprof.Lookup("goroutine").WriteTo(os.Stderr, 1)
			}
			fail("setup did not converge in %d ms: a node knows only %d of %d", *setupMaxMs, least, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	setupMs := float64(time.Since(setupStart).Microseconds()) / 1000
	progress("converged after %.0f ms", setupMs)

	queued := 0
	for _, m := range lists {
		queued += ml.PeerNumQueuedBroadcasts(m)
		ml.PeerResetBroadcasts(m)
	}
	progress("emptied %d queued broadcasts; steady state for %d ms", queued, *steadyMs)
	time.Sleep(time.Duration(*steadyMs) * time.Millisecond)
	before := minMembers()

	src := rng.Intn(n)
	progress("%s updates its meta (fewest members now %d)", names[src], before)
	delegates[src].mu.Lock()
	delegates[src].meta = []byte("v=2")
	delegates[src].mu.Unlock()
	source.Store(names[src])
	start.Store(time.Now().UnixNano())
	// UpdateNode waits until the broadcast is done; we watch the others.
	go lists[src].UpdateNode(time.Duration(*maxMs) * time.Millisecond)

	select {
	case <-allInformed:
	case <-time.After(time.Duration(*maxMs) * time.Millisecond):
		progress("not everyone heard of it within %d ms", *maxMs)
		if verbose {
			pprof.Lookup("goroutine").WriteTo(os.Stderr, 1)
		}
	}

	var mem runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&mem)
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	mu.Lock()
	times := append([]float64(nil), informed...)
	mu.Unlock()
	sort.Float64s(times)

	var r result
	r.Lang, r.Nodes, r.Profile, r.Setup = "go", n, *profile, *setup
	r.Informed.P50 = percentile(times, n-1, 0.5)
	r.Informed.P99 = percentile(times, n-1, 0.99)
	r.Informed.P9999 = percentile(times, n-1, 0.9999)
	r.Informed.P100 = percentile(times, n-1, 1)
	r.Informed.Count, r.Informed.Of = len(times), n-1
	r.SetupMs = math.Round(setupMs)
	r.QueuedAtReset = queued
	r.MembersBeforeUpdate = before
	r.SteadyMs = *steadyMs
	r.DroppedPackets = droppedPackets.Load()
	r.HeapBytes, r.SysBytes, r.MaxRssBytes = mem.HeapAlloc, mem.Sys, ru.Maxrss*1024
	r.CPUMs = math.Round(float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e6)
	r.Goroutines = runtime.NumGoroutine()
	r.WallMs = math.Round(float64(time.Since(wallStart).Microseconds()) / 1000)
	out, _ := json.Marshal(r)
	fmt.Println(string(out))
	// No shutdown: on a MockNetwork a node that stops reading blocks its
	// senders, and the process is done anyway.
	os.Exit(0)
}
