// SPDX-License-Identifier: MPL-2.0

// Command wirebench is the Go side of our codec benchmark: it times
// memberlist 0.2.2's own wire code (through tests/interop/go/shim) on the same
// workloads as the TypeScript benchmark and prints one JSON object per line:
//
//	{"lang":"go","op":"alive","opsPerSec":...,"nsPerOp":...,"iterations":...,"bytes":...}
//
// bytes is the size of the encoded message the op works on.
//
//	wirebench [--seconds S] [--op NAME[,NAME...]]
//
// Built by buildGoProgram("bench/go/wirebench") in tests/interop/_go.ts.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-msgpack/codec"
	ml "github.com/hashicorp/memberlist"
)

type op struct {
	name  string
	bytes int
	run   func() error
}

func check(err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "wirebench: %v\n", err)
		os.Exit(1)
	}
}

// pushPullNodes are 1,000 node records with realistic names, addresses and meta.
func pushPullNodes() []ml.WirePushNodeState {
	zones := []string{"eu-west-1a", "eu-west-1b", "us-east-2c"}
	nodes := make([]ml.WirePushNodeState, 1000)
	for i := range nodes {
		nodes[i] = ml.WirePushNodeState{
			Name:        fmt.Sprintf("node-%04d.dc1.example.com", i),
			Addr:        []byte{10, byte(i >> 16), byte(i >> 8), byte(i)},
			Port:        7946,
			Meta:        []byte(fmt.Sprintf("role=web;zone=%s;v=1.%d", zones[i%3], i%10)),
			Incarnation: uint32(1 + i%17),
			State:       ml.NodeStateType(0),
			Vsn:         []uint8{1, 5, 2, 2, 5, 4},
		}
		if i%50 == 7 {
			nodes[i].State = ml.StateSuspect
		}
		if i%100 == 9 {
			nodes[i].State = ml.StateDead
		}
	}
	return nodes
}

// encodePushPull builds a push/pull message as sendLocalState does: the type
// byte, then header and node records through one msgpack encoder over a buffer.
func encodePushPull(nodes []ml.WirePushNodeState) []byte {
	var buf bytes.Buffer
	buf.WriteByte(ml.WirePushPullMsg)
	hd := codec.MsgpackHandle{}
	enc := codec.NewEncoder(&buf, &hd)
	header := ml.WirePushPullHeader{Nodes: len(nodes), Join: false}
	check(enc.Encode(&header))
	for i := range nodes {
		check(enc.Encode(&nodes[i]))
	}
	return buf.Bytes()
}

func ops() []op {
	alive := ml.WireAlive{Incarnation: 1, Node: "node-123.example", Addr: []byte{127, 0, 0, 1}, Port: 7946,
		Meta: []byte("role=web;zone=a1"), Vsn: []uint8{1, 5, 2, 0, 0, 0}}
	aliveBytes, err := ml.ExportEncode(ml.WireAliveMsg, &alive)
	check(err)
	ping := ml.WirePing{SeqNo: 123456, Node: "node-123.example", SourceAddr: []byte{10, 0, 0, 7}, SourcePort: 7946,
		SourceNode: "node-7.example"}
	pingBytes, err := ml.ExportEncode(ml.WirePingMsg, &ping)
	check(err)

	nodes := pushPullNodes()
	reader, err := ml.NewStreamReader(nil, 2, 0)
	check(err)
	pp := encodePushPull(nodes)
	ppLZW, err := ml.ExportCompressPayload(pp)
	check(err)
	readPushPull := func(b []byte) error {
		t, rd, dec, err := reader.ReadStream(b)
		if err != nil {
			return err
		}
		if t != ml.WirePushPullMsg {
			return fmt.Errorf("read message type %d", t)
		}
		_, got, _, err := reader.ReadRemoteState(rd, dec)
		if err == nil && len(got) != len(nodes) {
			err = fmt.Errorf("read %d nodes", len(got))
		}
		return err
	}

	key := bytes.Repeat([]byte{0x42}, 32)
	keys := [][]byte{key}
	plain := bytes.Repeat([]byte{0xab}, 1400)
	sealed, err := ml.ExportEncryptPayload(1, key, plain, nil)
	check(err)

	return []op{
		{"alive", len(aliveBytes), func() error {
			b, err := ml.ExportEncode(ml.WireAliveMsg, &alive)
			if err != nil {
				return err
			}
			var out ml.WireAlive
			return ml.ExportDecode(b[1:], &out)
		}},
		{"ping", len(pingBytes), func() error {
			b, err := ml.ExportEncode(ml.WirePingMsg, &ping)
			if err != nil {
				return err
			}
			var out ml.WirePing
			return ml.ExportDecode(b[1:], &out)
		}},
		{"pushpull-1000", len(pp), func() error {
			return readPushPull(encodePushPull(nodes))
		}},
		{"pushpull-1000-lzw", len(ppLZW), func() error {
			c, err := ml.ExportCompressPayload(encodePushPull(nodes))
			if err != nil {
				return err
			}
			return readPushPull(c)
		}},
		{"aes-gcm-1400", len(sealed), func() error {
			c, err := ml.ExportEncryptPayload(1, key, plain, nil)
			if err != nil {
				return err
			}
			p, err := ml.ExportDecryptPayload(keys, c, nil)
			if err == nil && len(p) != len(plain) {
				err = fmt.Errorf("decrypted %d bytes", len(p))
			}
			return err
		}},
	}
}

// cpuTime is the CPU time (user + system) the process has used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measure runs f for about d (after a warm-up of a tenth of that) and returns
// the iterations, the time they took and the CPU time the process used meanwhile.
func measure(f func() error, d time.Duration) (int, time.Duration, time.Duration) {
	warm := time.Now().Add(d / 10)
	for time.Now().Before(warm) {
		check(f())
	}
	runtime.GC()
	n, batch := 0, 1
	start := time.Now()
	cpu0 := cpuTime()
	for {
		for i := 0; i < batch; i++ {
			check(f())
		}
		n += batch
		elapsed := time.Since(start)
		if elapsed >= d {
			return n, elapsed, cpuTime() - cpu0
		}
		if batch < 1<<20 && elapsed < d/4 {
			batch *= 2
		}
	}
}

type result struct {
	Lang       string  `json:"lang"`
	Op         string  `json:"op"`
	OpsPerSec  float64 `json:"opsPerSec"`
	NsPerOp    float64 `json:"nsPerOp"`
	Iterations int     `json:"iterations"`
	// Operations per second of CPU time: steadier than opsPerSec on a loaded machine.
	OpsPerCPUSec float64 `json:"opsPerCpuSec"`
	Bytes      int     `json:"bytes"`
}

func main() {
	seconds := flag.Float64("seconds", 1, "time per op, in seconds")
	only := flag.String("op", "", "comma-separated ops to run (default: all)")
	flag.Parse()
	want := map[string]bool{}
	for _, name := range strings.Split(*only, ",") {
		if name != "" {
			want[name] = true
		}
	}
	out := json.NewEncoder(os.Stdout)
	for _, o := range ops() {
		if len(want) > 0 && !want[o.name] {
			continue
		}
		n, elapsed, cpu := measure(o.run, time.Duration(*seconds*float64(time.Second)))
		ns := float64(elapsed.Nanoseconds()) / float64(n)
		cpuNs := float64(cpu.Nanoseconds()) / float64(n)
		check(out.Encode(result{Lang: "go", Op: o.name, OpsPerSec: math.Round(1e10/ns) / 10,
			NsPerOp: math.Round(ns*10) / 10, Iterations: n, Bytes: o.bytes, OpsPerCPUSec: math.Round(1e10/cpuNs) / 10}))
	}
}
