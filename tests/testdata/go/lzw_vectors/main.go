// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0

// Command lzw_vectors prints the LZW test vectors in tests/lzw_test.ts, made with
// Go's compress/lzw (LSB order, literal width 8), which memberlist uses.
//
//	cd tests/testdata/go/lzw_vectors && GO111MODULE=off go run .
//
// The inputs come from a xorshift32 generator that tests/lzw_test.ts implements
// the same way. Small outputs are printed in hex; large ones as length and SHA-256.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	"compress/lzw"
)

// xorshift32 returns n bytes: the low byte of each state after a step.
func xorshift32(seed uint32, n int) []byte {
	x := seed
	out := make([]byte, n)
	for i := range out {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		out[i] = byte(x)
	}
	return out
}

var words = []string{"memberlist", "gossip", "node", "alive", "suspect", "dead", "probe", "ack",
	"the", "a", "of", "and", "push", "pull", "state", "incarnation", "cluster", "address", "port",
	"meta", "udp", "tcp", "label", "key"}

// text returns n bytes of words picked by xorshift32, separated by spaces and,
// every so often, newlines.
func text(seed uint32, n int) []byte {
	x := seed
	var b strings.Builder
	for b.Len() < n {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b.WriteString(words[x%uint32(len(words))])
		if x>>24 < 32 {
			b.WriteByte('\n')
		} else {
			b.WriteByte(' ')
		}
	}
	return []byte(b.String()[:n])
}

func compress(in []byte) []byte {
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

func decompress(in []byte) ([]byte, error) {
	r := lzw.NewReader(bytes.NewReader(in), lzw.LSB, 8)
	defer r.Close()
	return io.ReadAll(r)
}

// lastCodeEvent parses a code stream the way the writer produced it and reports
// what the code sent just before the end code (the pending one) did to the
// writer's counter, when that changes the output: "width 10" and so on when the
// end code goes out one bit wider and that extra (zero) bit needs one more byte,
// "clear" when it forces a clear code; otherwise "".
func lastCodeEvent(stream []byte) string {
	var bits uint32
	var nBits, width uint = 0, 9
	hi := uint32(257)
	pos, used := 0, uint(0)
	event := ""
	for {
		for nBits < width {
			bits |= uint32(stream[pos]) << nBits
			pos++
			nBits += 8
		}
		code := bits & (1<<width - 1)
		bits >>= width
		nBits -= width
		switch {
		case code == 257:
			if strings.HasPrefix(event, "width") && (used+width-1)%8 != 0 {
				return "" // the narrower end code would fill the same bytes
			}
			return event
		case code == 256:
			event = "clear"
			used += width
			width, hi = 9, 257
			continue
		}
		used += width
		event = ""
		hi++
		if hi == 1<<width {
			width++
			event = fmt.Sprintf("width %d", width)
		}
	}
}

func show(name string, in []byte) {
	out := compress(in)
	back, err := decompress(out)
	if err != nil || !bytes.Equal(back, in) {
		panic(name + ": round trip failed")
	}
	if len(out) <= 300 {
		fmt.Printf("%-28s in %6d  out %6d  %s\n", name, len(in), len(out), hex.EncodeToString(out))
	} else {
		sum := sha256.Sum256(out)
		fmt.Printf("%-28s in %6d  out %6d  sha256 %s\n", name, len(in), len(out), hex.EncodeToString(sum[:]))
	}
}

func main() {
	show("empty", nil)
	show("a", []byte("a"))
	show("aaaa", []byte("aaaa"))
	ping, _ := hex.DecodeString("0082a44e6f6465a162a55365714e6f01")
	show("ping", ping)
	show("ab", []byte("ab"))
	show("rand 1 seed 1", xorshift32(1, 1))
	show("rand 2 seed 2", xorshift32(2, 2))
	// A small alphabet, so there are long matches and the code-equals-next-entry case.
	small := xorshift32(3, 255)
	for i := range small {
		small[i] = 'a' + small[i]&3
	}
	show("abcd 255 seed 3", small)
	seq := make([]byte, 256)
	for i := range seq {
		seq[i] = byte(i)
	}
	show("0..255", seq)
	show("zeros 1000", make([]byte, 1000))
	show("rand 5000 seed 5", xorshift32(5, 5000))
	show("text 20000 seed 20", text(20, 20000))
	show("rand 30000 seed 30", xorshift32(30, 30000))
	show("zeros 100000", make([]byte, 100000))

	// Prefixes of random streams whose pending code at the end widens the codes or
	// forces a clear, so that the end code goes out differently.
	found := map[string]bool{}
	// (Such a widening only shows when the extra bit starts a new byte, which never
	// happens before the first clear: the bit counts there are fixed.)
	for seed := uint32(7); len(found) < 4; seed++ {
		stream := xorshift32(seed, 16000)
		for n := 1; n <= len(stream); n++ {
			ev := lastCodeEvent(compress(stream[:n]))
			if ev != "" && !found[ev] {
				found[ev] = true
				show(fmt.Sprintf("rand %d seed %d (%s)", n, seed, ev), stream[:n])
			}
		}
	}

	// How the reader treats odd input. Each case is a list of codes, packed by
	// pack() (widths as the reader expects), then optionally cut or extended.
	full := []uint32{256}
	for i := 0; i < 3838; i++ {
		full = append(full, uint32(i&0xff))
	}
	full = append(full, 4095, 258, 300, 97, 4000, 4095, 256, 98, 258, 257)
	cases := []struct {
		name  string
		codes []uint32
		cut   int    // bytes to drop from the end
		extra string // hex bytes to append
	}{
		{"no leading clear", []uint32{97, 257}, 0, ""},
		{"bytes after the end code", []uint32{256, 97, 257}, 0, "ffffffff"},
		{"end code cut short", []uint32{256, 97, 257}, 1, ""},
		{"no end code", []uint32{256, 97, 98}, 0, ""},
		{"empty", nil, 0, ""},
		{"258 after clear", []uint32{256, 258, 257}, 0, ""},
		{"258 at the start", []uint32{258, 257}, 0, ""},
		{"code past the next entry", []uint32{256, 97, 98, 260, 257}, 0, ""},
		{"next entry after literal", []uint32{256, 97, 258, 257}, 0, ""},
		{"end right after clear", []uint32{256, 257}, 0, ""},
		{"clears everywhere", []uint32{256, 256, 97, 256, 98, 256, 256, 99, 258, 257}, 0, ""},
		{"full table, no reset", full, 0, ""},
	}
	for _, c := range cases {
		in := pack(c.codes)
		in = in[:len(in)-c.cut]
		x, _ := hex.DecodeString(c.extra)
		in = append(in, x...)
		out, err := decompress(in)
		if len(in) <= 40 {
			fmt.Printf("reader %-26s %-20s -> %q err=%v\n", c.name, hex.EncodeToString(in), out, err)
		} else {
			sum := sha256.Sum256(out)
			fmt.Printf("reader %-26s in %d bytes -> %d bytes sha256 %s err=%v\n", c.name, len(in), len(out),
				hex.EncodeToString(sum[:]), err)
		}
	}
}

// pack writes codes LSB first at the widths Go's reader expects for them.
func pack(codes []uint32) []byte {
	var out []byte
	var bits uint32
	var nBits, width uint = 0, 9
	hi := uint32(257)
	for _, code := range codes {
		bits |= code << nBits
		nBits += width
		for nBits >= 8 {
			out = append(out, byte(bits))
			bits >>= 8
			nBits -= 8
		}
		switch code {
		case 256:
			width, hi = 9, 257
		case 257:
		default:
			hi++
			if hi == 1<<width {
				if width == 12 {
					hi--
				} else {
					width++
				}
			}
		}
	}
	if nBits > 0 {
		out = append(out, byte(bits))
	}
	return out
}
