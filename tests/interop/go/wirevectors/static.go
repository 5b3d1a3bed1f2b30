// SPDX-License-Identifier: MPL-2.0

package main

// The vectors that need no cluster: single messages, LZW, compress, compound,
// CRC and encryption, each made by calling memberlist's own functions.

import (
	"bytes"
	"compress/lzw"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"math"
	"math/rand"
	"net"
	"strings"

	"github.com/hashicorp/go-msgpack/codec"
	ml "github.com/hashicorp/memberlist"
)

func generate(withCluster bool) ([]obj, error) {
	var out []obj
	gens := []func() ([]obj, error){messageVectors, lzwVectors, compressVectors, compoundVectors, crcVectors, encryptVectors}
	for _, g := range gens {
		v, err := g()
		if err != nil {
			return nil, err
		}
		out = append(out, v...)
	}
	if withCluster {
		v, err := clusterVectors()
		if err != nil {
			return nil, err
		}
		out = append(out, v...)
	}
	seen := map[string]bool{}
	for _, v := range out {
		name := v.get("name").(string)
		if seen[name] {
			return nil, fmt.Errorf("duplicate vector name %q", name)
		}
		seen[name] = true
	}
	return out, nil
}

// encodeStruct is what memberlist sends for a struct: encode(t, v), or for
// pushNodeState (t = -1) the struct alone, written by a msgpack encoder with a
// zero MsgpackHandle as sendLocalState does.
func encodeStruct(t int, v interface{}) ([]byte, error) {
	if t == typePushNodeState {
		var buf bytes.Buffer
		hd := codec.MsgpackHandle{}
		if err := codec.NewEncoder(&buf, &hd).Encode(v); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}
	return ml.ExportEncode(uint8(t), v)
}

// decodeStruct decodes what encodeStruct produced with memberlist's decode.
func decodeStruct(t int, b []byte) (interface{}, error) {
	out, err := structByType(t)
	if err != nil {
		return nil, err
	}
	body := b
	if t != typePushNodeState {
		if len(b) == 0 || int(b[0]) != t {
			return nil, fmt.Errorf("type byte is not %d", t)
		}
		body = b[1:]
	}
	if err := ml.ExportDecode(body, out); err != nil {
		return nil, err
	}
	return out, nil
}

func ip4(s string) []byte  { return net.ParseIP(s).To4() }
func ip16(s string) []byte { return []byte(net.ParseIP(s).To16()) }

func repeatString(unit string, n int) string {
	return strings.Repeat(unit, n/len(unit)+1)[:n]
}

// fill returns n bytes of a fixed pattern.
func fill(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i*7)
	}
	return b
}

var vsnDefault = []uint8{1, 5, 2, 0, 0, 0}

type namedMsg struct {
	name string
	t    int
	v    interface{}
}

func messageVectors() ([]obj, error) {
	localhost := ip4("127.0.0.1")
	mapped := ip16("10.0.0.1")
	v6 := ip16("2001:db8::1")
	var msgs []namedMsg
	add := func(name string, t int, v interface{}) { msgs = append(msgs, namedMsg{name, t, v}) }

	// ping (0)
	add("ping: SeqNo 1, Node \"b\", no Source fields (spec 6.1)", 0, &ml.WirePing{SeqNo: 1, Node: "b"})
	add("ping: SeqNo 300 with Source 127.0.0.1:7946 \"a\" (spec 6.1)", 0, &ml.WirePing{SeqNo: 300, Node: "b", SourceAddr: localhost, SourcePort: 7946, SourceNode: "a"})
	add("ping: zero value (Source fields omitted)", 0, &ml.WirePing{})
	add("ping: empty non-nil SourceAddr is omitted too", 0, &ml.WirePing{SeqNo: 2, Node: "go-b", SourceAddr: []byte{}, SourcePort: 7946, SourceNode: "go-a"})
	add("ping: only SourcePort set", 0, &ml.WirePing{SeqNo: 3, Node: "go-b", SourcePort: 7946})
	add("ping: SeqNo uint32 max, 16-byte IPv4-mapped source, SourcePort 65535", 0, &ml.WirePing{SeqNo: math.MaxUint32, Node: "go-b", SourceAddr: mapped, SourcePort: 65535, SourceNode: "go-a"})
	add("ping: IPv6 source", 0, &ml.WirePing{SeqNo: 77, Node: "node-123.example", SourceAddr: v6, SourcePort: 7946, SourceNode: "node-7.example"})
	for _, n := range []uint32{127, 128, 255, 256, 65535, 65536} {
		add(fmt.Sprintf("ping: SeqNo %d", n), 0, &ml.WirePing{SeqNo: n, Node: "go-b", SourceAddr: localhost, SourcePort: 7947, SourceNode: "go-a"})
	}
	add("ping: non-ASCII node names", 0, &ml.WirePing{SeqNo: 9, Node: "nœud-ß-节点-🚀", SourceAddr: localhost, SourcePort: 7946, SourceNode: "ノード-α"})

	// indirectPingReq (1)
	add("indirectPingReq: spec 6.1 example", 1, &ml.WireIndirectPingReq{SeqNo: 7, Target: ip4("10.0.0.2"), Port: 7946, Node: "c", Nack: true, SourceAddr: localhost, SourcePort: 7946, SourceNode: "a"})
	add("indirectPingReq: zero value", 1, &ml.WireIndirectPingReq{})
	add("indirectPingReq: Nack false, no Source fields", 1, &ml.WireIndirectPingReq{SeqNo: 8, Target: localhost, Port: 7948, Node: "go-c"})
	add("indirectPingReq: 16-byte IPv4-mapped target", 1, &ml.WireIndirectPingReq{SeqNo: 128, Target: ip16("127.0.0.1"), Port: 7948, Node: "go-c", Nack: true, SourceAddr: localhost, SourcePort: 7946, SourceNode: "go-a"})
	add("indirectPingReq: IPv6 target and source, SeqNo max, Port 65535", 1, &ml.WireIndirectPingReq{SeqNo: math.MaxUint32, Target: v6, Port: 65535, Node: "node-9.example", Nack: true, SourceAddr: ip16("2001:db8::2"), SourcePort: 65535, SourceNode: "node-1.example"})
	add("indirectPingReq: Port 0, empty Target", 1, &ml.WireIndirectPingReq{SeqNo: 1, Target: []byte{}, Port: 0, Node: "x"})

	// ackResp (2)
	add("ackResp: SeqNo 1, Payload nil (spec 6.1)", 2, &ml.WireAckResp{SeqNo: 1})
	add("ackResp: SeqNo 70000, Payload \"hi\" (spec 6.1)", 2, &ml.WireAckResp{SeqNo: 70000, Payload: []byte("hi")})
	add("ackResp: Payload empty non-nil", 2, &ml.WireAckResp{SeqNo: 2, Payload: []byte{}})
	add("ackResp: zero value", 2, &ml.WireAckResp{})
	for _, n := range []int{31, 32, 255, 256} {
		add(fmt.Sprintf("ackResp: Payload of %d bytes", n), 2, &ml.WireAckResp{SeqNo: 5, Payload: fill(n, byte(n))})
	}
	add("ackResp: SeqNo uint32 max, binary Payload", 2, &ml.WireAckResp{SeqNo: math.MaxUint32, Payload: []byte{0, 0xc0, 0xff, 0x80, 0x7f}})

	// nackResp (11)
	for _, n := range []uint32{0, 9, 127, 128, 255, 256, 65535, 65536, math.MaxUint32} {
		name := fmt.Sprintf("nackResp: SeqNo %d", n)
		if n == 9 {
			name += " (spec 6.1)"
		}
		add(name, 11, &ml.WireNackResp{SeqNo: n})
	}

	// errResp (13)
	add("errResp: \"boom\" (spec 6.1)", 13, &ml.WireErrResp{Error: "boom"})
	add("errResp: empty string", 13, &ml.WireErrResp{})
	for _, n := range []int{31, 32, 255, 256, 65535, 65536} {
		add(fmt.Sprintf("errResp: string of %d bytes", n), 13, &ml.WireErrResp{Error: repeatString("remote error: ", n)})
	}
	add("errResp: non-ASCII text", 13, &ml.WireErrResp{Error: "échec: nœud « go-ß » introuvable — 失败"})

	// suspect (3)
	add("suspect: Inc 5, Node \"b\", From \"a\" (spec 6.1)", 3, &ml.WireSuspect{Incarnation: 5, Node: "b", From: "a"})
	add("suspect: zero value", 3, &ml.WireSuspect{})
	add("suspect: Incarnation uint32 max", 3, &ml.WireSuspect{Incarnation: math.MaxUint32, Node: "go-c", From: "go-a"})
	add("suspect: non-ASCII names", 3, &ml.WireSuspect{Incarnation: 300, Node: "节点-3", From: "nœud-1"})
	add("suspect: names of 31 and 32 bytes", 3, &ml.WireSuspect{Incarnation: 2, Node: repeatString("n", 31), From: repeatString("f", 32)})

	// alive (4)
	add("alive: node \"a\" 127.0.0.1:7946, Meta nil (spec 6.1)", 4, &ml.WireAlive{Incarnation: 1, Node: "a", Addr: localhost, Port: 7946, Vsn: vsnDefault})
	add("alive: Meta empty non-nil (spec 6.1)", 4, &ml.WireAlive{Incarnation: 1, Node: "a", Addr: localhost, Port: 7946, Meta: []byte{}, Vsn: vsnDefault})
	add("alive: Meta \"xyz\", Vsn nil (spec 6.1)", 4, &ml.WireAlive{Incarnation: 1, Node: "a", Addr: localhost, Port: 7946, Meta: []byte("xyz")})
	add("alive: zero value", 4, &ml.WireAlive{})
	add("alive: 16-byte IPv4-mapped Addr (a node bound to 0.0.0.0)", 4, &ml.WireAlive{Incarnation: 3, Node: "go-c", Addr: ip16("127.0.0.1"), Port: 7948, Meta: []byte("role=c"), Vsn: vsnDefault})
	add("alive: IPv6 Addr", 4, &ml.WireAlive{Incarnation: 3, Node: "node-6.example", Addr: v6, Port: 7946, Vsn: vsnDefault})
	add("alive: Meta of 512 bytes (MetaMaxSize)", 4, &ml.WireAlive{Incarnation: 9, Node: "go-a", Addr: localhost, Port: 7946, Meta: fill(512, 3), Vsn: vsnDefault})
	add("alive: Port 0, Incarnation uint32 max", 4, &ml.WireAlive{Incarnation: math.MaxUint32, Node: "go-a", Addr: localhost, Port: 0, Vsn: vsnDefault})
	add("alive: Port 65535", 4, &ml.WireAlive{Incarnation: 1, Node: "go-a", Addr: localhost, Port: 65535, Vsn: vsnDefault})
	for _, n := range []uint32{127, 128, 255, 256, 65535, 65536} {
		add(fmt.Sprintf("alive: Incarnation %d", n), 4, &ml.WireAlive{Incarnation: n, Node: "go-a", Addr: localhost, Port: 7946, Vsn: vsnDefault})
	}
	for _, n := range []int{0, 31, 32, 255, 256} {
		add(fmt.Sprintf("alive: node name of %d bytes", n), 4, &ml.WireAlive{Incarnation: 1, Node: repeatString("node-name.", n), Addr: localhost, Port: 7946, Vsn: vsnDefault})
	}
	add("alive: non-ASCII node name", 4, &ml.WireAlive{Incarnation: 1, Node: "nœud-ß-节点-🚀", Addr: localhost, Port: 7946, Meta: []byte("ü"), Vsn: vsnDefault})
	add("alive: Vsn of a protocol-5 speaker with delegate versions", 4, &ml.WireAlive{Incarnation: 4, Node: "go-b", Addr: localhost, Port: 7947, Meta: []byte("meta"), Vsn: []uint8{1, 5, 5, 2, 5, 4}})

	// dead (5)
	add("dead: leave, Node == From (spec 6.1)", 5, &ml.WireDead{Incarnation: 5, Node: "a", From: "a"})
	add("dead: declared by another node", 5, &ml.WireDead{Incarnation: 128, Node: "go-c", From: "go-a"})
	add("dead: zero value", 5, &ml.WireDead{})
	add("dead: Incarnation uint32 max, non-ASCII", 5, &ml.WireDead{Incarnation: math.MaxUint32, Node: "节点-3", From: "节点-3"})

	// pushPullHeader (6)
	add("pushPullHeader: Nodes 2, Join true (spec 6.1)", 6, &ml.WirePushPullHeader{Nodes: 2, Join: true})
	add("pushPullHeader: Nodes 200, UserStateLen 70000, go-msgpack 0.5 unsigned forms (spec 6.1)", 6, &ml.WirePushPullHeader{Nodes: 200, UserStateLen: 70000})
	add("pushPullHeader: zero value", 6, &ml.WirePushPullHeader{})
	for _, n := range []int{127, 128, 255, 256, 65535, 65536} {
		add(fmt.Sprintf("pushPullHeader: Nodes %d, UserStateLen %d", n, n), 6, &ml.WirePushPullHeader{Nodes: n, UserStateLen: n, Join: n%2 == 0})
	}
	add("pushPullHeader: UserStateLen 20 MiB", 6, &ml.WirePushPullHeader{Nodes: 1, UserStateLen: 20 * 1024 * 1024})

	// userMsgHeader (8)
	for _, n := range []int{0, 5, 127, 128, 255, 256, 1000, 65535, 65536} {
		name := fmt.Sprintf("userMsgHeader: UserMsgLen %d", n)
		if n == 5 || n == 1000 {
			name += " (spec 6.1)"
		}
		add(name, 8, &ml.WireUserMsgHeader{UserMsgLen: n})
	}

	// pushNodeState (no type byte)
	add("pushNodeState: \"a\" 127.0.0.1:7946 alive (spec 6.1)", typePushNodeState, &ml.WirePushNodeState{Name: "a", Addr: localhost, Port: 7946, Incarnation: 1, State: ml.StateAlive, Vsn: vsnDefault})
	add("pushNodeState: suspect, Meta set", typePushNodeState, &ml.WirePushNodeState{Name: "go-b", Addr: localhost, Port: 7947, Meta: []byte("role=b"), Incarnation: 2, State: ml.StateSuspect, Vsn: vsnDefault})
	add("pushNodeState: dead, 16-byte IPv4-mapped Addr", typePushNodeState, &ml.WirePushNodeState{Name: "go-c", Addr: ip16("127.0.0.1"), Port: 7948, Incarnation: 300, State: ml.StateDead, Vsn: vsnDefault})
	add("pushNodeState: left, Meta empty non-nil", typePushNodeState, &ml.WirePushNodeState{Name: "go-d", Addr: localhost, Port: 7949, Meta: []byte{}, Incarnation: 65536, State: ml.StateLeft, Vsn: vsnDefault})
	add("pushNodeState: IPv6, Meta of 512 bytes, Incarnation max", typePushNodeState, &ml.WirePushNodeState{Name: "node-123.example", Addr: v6, Port: 65535, Meta: fill(512, 9), Incarnation: math.MaxUint32, State: ml.StateAlive, Vsn: []uint8{1, 5, 4, 0, 3, 2}})
	add("pushNodeState: zero value", typePushNodeState, &ml.WirePushNodeState{})

	// compress (9)
	add("compress: Algo 0, Buf 010203 (spec 6.1)", 9, &ml.WireCompress{Algo: 0, Buf: []byte{1, 2, 3}})
	add("compress: Buf nil", 9, &ml.WireCompress{})
	add("compress: Buf empty non-nil", 9, &ml.WireCompress{Buf: []byte{}})
	add("compress: Algo 1 (unknown algorithm; encodes, rejected when decompressed)", 9, &ml.WireCompress{Algo: 1, Buf: []byte{0}})
	add("compress: Buf of 256 bytes", 9, &ml.WireCompress{Buf: fill(256, 1)})

	var out []obj
	for _, m := range msgs {
		b, err := encodeStruct(m.t, m.v)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", m.name, err)
		}
		// Self-check: what Go decodes is what was encoded.
		back, err := decodeStruct(m.t, b)
		if err != nil {
			return nil, fmt.Errorf("%s: decode: %v", m.name, err)
		}
		if err := sameStruct(back, m.v); err != nil {
			return nil, fmt.Errorf("%s: %v", m.name, err)
		}
		out = append(out, obj{
			{"kind", "message"}, {"name", m.name}, {"type", m.t},
			{"fields", structFields(m.v, false)}, {"hex", hex.EncodeToString(b)},
		})
	}
	return out, nil
}

// pushPullLike is a plain push/pull message (type byte included) for n nodes,
// built as sendLocalState builds one.
func pushPullLike(n int, userState []byte) []byte {
	var buf bytes.Buffer
	buf.WriteByte(ml.WirePushPullMsg)
	hd := codec.MsgpackHandle{}
	enc := codec.NewEncoder(&buf, &hd)
	if err := enc.Encode(&ml.WirePushPullHeader{Nodes: n, UserStateLen: len(userState)}); err != nil {
		panic(err)
	}
	for i := 0; i < n; i++ {
		s := ml.WirePushNodeState{
			Name:        fmt.Sprintf("node-%03d.dc1.example", i),
			Addr:        []byte{10, 0, byte(i / 250), byte(1 + i%250)},
			Port:        7946,
			Meta:        []byte(fmt.Sprintf("role=web;zone=z%d", i%3)),
			Incarnation: uint32(1 + i%5),
			State:       ml.NodeStateType(i % 4),
			Vsn:         vsnDefault,
		}
		if err := enc.Encode(&s); err != nil {
			panic(err)
		}
	}
	buf.Write(userState)
	return buf.Bytes()
}

func lzwCompress(in []byte) []byte {
	var buf bytes.Buffer
	w := lzw.NewWriter(&buf, lzw.LSB, 8)
	if _, err := w.Write(in); err != nil {
		panic(err)
	}
	if err := w.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

func specPing() []byte {
	b, err := ml.ExportEncode(ml.WirePingMsg, &ml.WirePing{SeqNo: 1, Node: "b"})
	if err != nil {
		panic(err)
	}
	return b
}

func randomBytes(n int, seed int64) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

func lzwVectors() ([]obj, error) {
	inputs := []struct {
		name string
		in   []byte
	}{
		{"lzw: empty input", []byte{}},
		{"lzw: \"a\"", []byte("a")},
		{"lzw: \"aaaa\"", []byte("aaaa")},
		{"lzw: the spec 6.2 ping", specPing()},
		{"lzw: 256 distinct bytes", fill(256, 0)},
		{"lzw: 600 bytes of one value (code width grows to 10 bits)", bytes.Repeat([]byte{'x'}, 600)},
		{"lzw: push/pull-like message, 150 nodes (~16 KB)", pushPullLike(150, []byte("user state"))},
		{"lzw: 6000 random bytes (table fills: clear code and reset at 4095)", randomBytes(6000, 1)},
	}
	var out []obj
	for _, c := range inputs {
		out = append(out, obj{{"kind", "lzw"}, {"name", c.name}, {"input", hex.EncodeToString(c.in)}, {"hex", hex.EncodeToString(lzwCompress(c.in))}})
	}
	return out, nil
}

func compressVectors() ([]obj, error) {
	compound := ml.ExportMakeCompoundMessage([][]byte{specPing(), mustEncode(3, &ml.WireSuspect{Incarnation: 5, Node: "b", From: "a"})})
	inputs := []struct {
		name string
		in   []byte
	}{
		{"compress: empty input", []byte{}},
		{"compress: the spec 6.2 ping (result longer than the input)", specPing()},
		{"compress: compound [ping, suspect]", compound},
		{"compress: alive with 512-byte Meta", mustEncode(4, &ml.WireAlive{Incarnation: 9, Node: "go-a", Addr: ip4("127.0.0.1"), Port: 7946, Meta: bytes.Repeat([]byte("meta"), 128), Vsn: vsnDefault})},
		{"compress: push/pull-like message, 20 nodes", pushPullLike(20, []byte("some user state"))},
	}
	var out []obj
	for _, c := range inputs {
		b, err := ml.ExportCompressPayload(c.in)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", c.name, err)
		}
		out = append(out, obj{{"kind", "compress"}, {"name", c.name}, {"input", hex.EncodeToString(c.in)}, {"hex", hex.EncodeToString(b)}})
	}
	return out, nil
}

func mustEncode(t uint8, v interface{}) []byte {
	b, err := ml.ExportEncode(t, v)
	if err != nil {
		panic(err)
	}
	return b
}

func hexList(parts [][]byte) []string {
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = hex.EncodeToString(p)
	}
	return out
}

func compoundVectors() ([]obj, error) {
	ping := specPing()
	susp := mustEncode(3, &ml.WireSuspect{Incarnation: 5, Node: "b", From: "a"})
	alive := mustEncode(4, &ml.WireAlive{Incarnation: 1, Node: "a", Addr: ip4("127.0.0.1"), Port: 7946, Vsn: vsnDefault})
	nacks := func(n int) [][]byte {
		var out [][]byte
		for i := 0; i < n; i++ {
			out = append(out, mustEncode(11, &ml.WireNackResp{SeqNo: uint32(i)}))
		}
		return out
	}
	inner := ml.ExportMakeCompoundMessage([][]byte{ping, susp})
	big := append([]byte{ml.WireUserMsg}, fill(1000, 5)...)
	cases := []struct {
		name  string
		parts [][]byte
	}{
		{"compound: 1 part", [][]byte{ping}},
		{"compound: [ping, suspect] (spec 6.2)", [][]byte{ping, susp}},
		{"compound: [ping, alive, alive, user]", [][]byte{ping, alive, alive, {ml.WireUserMsg, 'h', 'i'}}},
		{"compound: 127 parts", nacks(127)},
		{"compound: 128 parts (0.2.2's decodeCompoundMessage mis-splits 128 or more)", nacks(128)},
		{"compound: 255 parts (the maximum; 0.2.2's decodeCompoundMessage mis-splits it)", nacks(255)},
		{"compound: a compound inside a compound", [][]byte{inner, alive}},
		{"compound: one-byte user part and a 1001-byte user part", [][]byte{{ml.WireUserMsg}, big}},
	}
	var out []obj
	for _, c := range cases {
		b := ml.ExportMakeCompoundMessage(c.parts)
		out = append(out, obj{{"kind", "compound"}, {"name", c.name}, {"parts", hexList(c.parts)}, {"hex", hex.EncodeToString(b)}})
	}
	return out, nil
}

// crcFrame puts the CRC header in front of msg the way rawSendMsgPacket does
// (that code is inline there, so this is our own copy of the three steps).
func crcFrame(msg []byte) []byte {
	out := make([]byte, 5, 5+len(msg))
	out[0] = ml.WireHasCrcMsg
	binary.BigEndian.PutUint32(out[1:], crc32.ChecksumIEEE(msg))
	return append(out, msg...)
}

func crcVectors() ([]obj, error) {
	alive := mustEncode(4, &ml.WireAlive{Incarnation: 1, Node: "a", Addr: ip4("127.0.0.1"), Port: 7946, Vsn: vsnDefault})
	compressed, err := ml.ExportCompressPayload(pushPullLike(3, nil))
	if err != nil {
		return nil, err
	}
	cases := []struct {
		name string
		in   []byte
	}{
		{"crc: empty input", []byte{}},
		{"crc: the spec 6.2 ping", specPing()},
		{"crc: the spec 6.1 alive (CRC 29ae395e)", alive},
		{"crc: compound [alive, alive]", ml.ExportMakeCompoundMessage([][]byte{alive, alive})},
		{"crc: compressed message", compressed},
		{"crc: 1400 bytes", fill(1400, 11)},
	}
	var out []obj
	for _, c := range cases {
		out = append(out, obj{{"kind", "crc"}, {"name", c.name}, {"input", hex.EncodeToString(c.in)}, {"hex", hex.EncodeToString(crcFrame(c.in))}})
	}
	return out, nil
}

// streamAAD is the additional data of an encrypted stream message: 0x0a, the
// envelope length (uint32, big-endian), then the label (absent in 0.2.2).
func streamAAD(vsn uint8, ptLen int, label string) []byte {
	aad := make([]byte, 5, 5+len(label))
	aad[0] = ml.WireEncryptMsg
	binary.BigEndian.PutUint32(aad[1:], uint32(ml.ExportEncryptedLength(vsn, ptLen)))
	return append(aad, label...)
}

func encryptVectors() ([]obj, error) {
	keys := map[int][]byte{
		16: fill(16, 0x10),
		24: fill(24, 0x20),
		32: fill(32, 0x40),
	}
	type ecase struct {
		name    string
		vsn     uint8
		key     []byte
		aad     []byte
		pt      []byte
		ptLabel string
	}
	var cases []ecase
	for _, vsn := range []uint8{0, 1} {
		for _, ks := range []int{16, 24, 32} {
			for _, n := range []int{0, 1, 15, 16, 17} {
				cases = append(cases, ecase{fmt.Sprintf("encrypt: v%d AES-%d, %d-byte plaintext, no AAD", vsn, ks*8, n), vsn, keys[ks], nil, fill(n, byte(n)), ""})
			}
		}
		cases = append(cases,
			ecase{fmt.Sprintf("encrypt: v%d AES-256, 1400-byte plaintext, no AAD", vsn), vsn, keys[32], nil, fill(1400, 1), ""},
			ecase{fmt.Sprintf("encrypt: v%d AES-128, 1400-byte plaintext, no AAD", vsn), vsn, keys[16], nil, fill(1400, 2), ""},
			ecase{fmt.Sprintf("encrypt: v%d AES-128, the spec 6.2 ping, packet label \"prod\" as AAD", vsn), vsn, keys[16], []byte("prod"), specPing(), ""},
			ecase{fmt.Sprintf("encrypt: v%d AES-256, 17-byte plaintext, packet label \"prod\" as AAD", vsn), vsn, keys[32], []byte("prod"), fill(17, 17), ""},
			ecase{fmt.Sprintf("encrypt: v%d AES-128, the spec 6.2 ping, stream AAD (5-byte header, no label)", vsn), vsn, keys[16], nil, specPing(), "\x00"},
			ecase{fmt.Sprintf("encrypt: v%d AES-256, 16-byte plaintext, stream AAD (5-byte header, no label)", vsn), vsn, keys[32], nil, fill(16, 16), "\x00"},
			ecase{fmt.Sprintf("encrypt: v%d AES-128, the spec 6.2 ping, stream AAD (5-byte header + label \"prod\")", vsn), vsn, keys[16], nil, specPing(), "prod"},
			ecase{fmt.Sprintf("encrypt: v%d AES-192, 1400-byte plaintext, stream AAD (5-byte header + label \"prod\")", vsn), vsn, keys[24], nil, fill(1400, 3), "prod"},
		)
	}
	var out []obj
	for _, c := range cases {
		aad := c.aad
		if c.ptLabel != "" {
			label := c.ptLabel
			if label == "\x00" {
				label = ""
			}
			aad = streamAAD(c.vsn, len(c.pt), label)
		}
		b, err := ml.ExportEncryptPayload(c.vsn, c.key, c.pt, aad)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", c.name, err)
		}
		back, err := ml.ExportDecryptPayload([][]byte{c.key}, b, aad)
		if err != nil || !bytes.Equal(back, c.pt) {
			return nil, fmt.Errorf("%s: does not decrypt back: %v", c.name, err)
		}
		out = append(out, obj{
			{"kind", "encrypt"}, {"name", c.name}, {"version", int(c.vsn)}, {"key", hex.EncodeToString(c.key)},
			{"aad", hex.EncodeToString(aad)}, {"plaintext", hex.EncodeToString(c.pt)}, {"hex", hex.EncodeToString(b)},
		})
	}
	return out, nil
}
