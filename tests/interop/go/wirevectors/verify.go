// SPDX-License-Identifier: MPL-2.0

package main

// verify: check entries (in the shapes gen writes, usually produced by our
// TypeScript code) with memberlist's own functions.

import (
	"bytes"
	"compress/lzw"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"strings"

	ml "github.com/hashicorp/memberlist"
)

// entry is one JSON object of the input file.
type entry map[string]interface{}

func (e entry) str(k string) (string, error) {
	v, ok := e[k].(string)
	if !ok {
		return "", fmt.Errorf("%q: want a string", k)
	}
	return v, nil
}

func (e entry) hexField(k string) ([]byte, error) {
	s, err := e.str(k)
	if err != nil {
		return nil, err
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%q: %v", k, err)
	}
	return b, nil
}

func (e entry) hexList(k string) ([][]byte, error) {
	raw, ok := e[k].([]interface{})
	if !ok {
		return nil, fmt.Errorf("%q: want an array of hex strings", k)
	}
	out := [][]byte{}
	for i, x := range raw {
		s, ok := x.(string)
		if !ok {
			return nil, fmt.Errorf("%q[%d]: want a hex string", k, i)
		}
		b, err := hex.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("%q[%d]: %v", k, i, err)
		}
		out = append(out, b)
	}
	return out, nil
}

func (e entry) int(k string) (int, error) {
	n, err := jsonInt(e[k])
	if err != nil {
		return 0, fmt.Errorf("%q: %v", k, err)
	}
	return int(n), nil
}

type result struct {
	Name      string `json:"name"`
	Kind      string `json:"kind"`
	OK        bool   `json:"ok"`
	Error     string `json:"error,omitempty"`
	Identical *bool  `json:"sameAsGo,omitempty"`
}

func verifyFile(path string, w io.Writer) int {
	data, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "wirevectors: %v\n", err)
		return 2
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var entries []entry
	if err := dec.Decode(&entries); err != nil {
		fmt.Fprintf(os.Stderr, "wirevectors: %s: %v\n", path, err)
		return 2
	}
	failed := 0
	for i, e := range entries {
		name, _ := e["name"].(string)
		if name == "" {
			name = fmt.Sprintf("#%d", i)
		}
		kind, _ := e["kind"].(string)
		res := result{Name: name, Kind: kind, OK: true}
		same, err := verifyEntry(kind, e)
		if err != nil {
			res.OK = false
			res.Error = err.Error()
			failed++
		}
		res.Identical = same
		w.Write(mustMarshal(res))
		io.WriteString(w, "\n")
	}
	summary := obj{{"summary", true}, {"total", len(entries)}, {"ok", len(entries) - failed}, {"failed", failed}}
	w.Write(mustMarshal(summary))
	io.WriteString(w, "\n")
	if failed > 0 {
		return 1
	}
	return 0
}

func boolPtr(b bool) *bool { return &b }

// verifyEntry checks one entry. The *bool result, when not nil, tells whether
// Go itself would have produced exactly these bytes (for kinds where a
// different but valid encoding is acceptable).
func verifyEntry(kind string, e entry) (*bool, error) {
	switch kind {
	case "message":
		return nil, verifyMessage(e)
	case "lzw":
		in, err := e.hexField("input")
		if err != nil {
			return nil, err
		}
		b, err := e.hexField("hex")
		if err != nil {
			return nil, err
		}
		r := lzw.NewReader(bytes.NewReader(b), lzw.LSB, 8)
		got, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			return nil, fmt.Errorf("lzw reader: %v", err)
		}
		if !bytes.Equal(got, in) {
			return nil, fmt.Errorf("decompresses to %d bytes that differ from input (%d bytes)", len(got), len(in))
		}
		return boolPtr(bytes.Equal(lzwCompress(in), b)), nil
	case "compress":
		in, err := e.hexField("input")
		if err != nil {
			return nil, err
		}
		b, err := e.hexField("hex")
		if err != nil {
			return nil, err
		}
		if len(b) == 0 || b[0] != ml.WireCompressMsg {
			return nil, fmt.Errorf("does not start with the compress type byte 09")
		}
		got, err := ml.ExportDecompressPayload(b[1:])
		if err != nil {
			return nil, fmt.Errorf("decompressPayload: %v", err)
		}
		if !bytes.Equal(got, in) {
			return nil, fmt.Errorf("decompresses to %x, want %x", clip(got), clip(in))
		}
		goOut, err := ml.ExportCompressPayload(in)
		return boolPtr(err == nil && bytes.Equal(goOut, b)), nil
	case "compound":
		parts, err := e.hexList("parts")
		if err != nil {
			return nil, err
		}
		b, err := e.hexField("hex")
		if err != nil {
			return nil, err
		}
		if len(b) == 0 || b[0] != ml.WireCompoundMsg {
			return nil, fmt.Errorf("does not start with the compound type byte 07")
		}
		if len(b) >= 2 && b[1] >= 128 {
			// decodeCompoundMessage in 0.2.2 computes the start of the part
			// data as numParts*2 in uint8 arithmetic, so it mis-splits 128
			// parts or more. The framing is deterministic: compare with
			// makeCompoundMessage instead.
			if want := ml.ExportMakeCompoundMessage(parts); !bytes.Equal(want, b) {
				return nil, fmt.Errorf("makeCompoundMessage gives %s", firstDiff(want, b))
			}
			return boolPtr(true), nil
		}
		trunc, got, err := ml.ExportDecodeCompoundMessage(b[1:])
		if err != nil {
			return nil, fmt.Errorf("decodeCompoundMessage: %v", err)
		}
		if trunc > 0 {
			return nil, fmt.Errorf("decodeCompoundMessage: %d truncated parts", trunc)
		}
		if len(got) != len(parts) {
			return nil, fmt.Errorf("%d parts, want %d", len(got), len(parts))
		}
		for i := range got {
			if !bytes.Equal(got[i], parts[i]) {
				return nil, fmt.Errorf("part %d is %x, want %x", i, clip(got[i]), clip(parts[i]))
			}
		}
		return boolPtr(bytes.Equal(ml.ExportMakeCompoundMessage(parts), b)), nil
	case "crc":
		in, err := e.hexField("input")
		if err != nil {
			return nil, err
		}
		b, err := e.hexField("hex")
		if err != nil {
			return nil, err
		}
		if len(b) < 5 || b[0] != ml.WireHasCrcMsg {
			return nil, fmt.Errorf("does not start with a CRC header (0c + 4 bytes)")
		}
		if want, got := binary.BigEndian.Uint32(b[1:5]), crc32.ChecksumIEEE(b[5:]); want != got {
			return nil, fmt.Errorf("CRC header %08x, Go computes %08x", want, got)
		}
		if !bytes.Equal(b[5:], in) {
			return nil, fmt.Errorf("payload after the CRC header differs from input")
		}
		return nil, nil
	case "encrypt":
		vsn, err := e.int("version")
		if err != nil {
			return nil, err
		}
		key, err := e.hexField("key")
		if err != nil {
			return nil, err
		}
		aad, err := e.hexField("aad")
		if err != nil {
			return nil, err
		}
		pt, err := e.hexField("plaintext")
		if err != nil {
			return nil, err
		}
		b, err := e.hexField("hex")
		if err != nil {
			return nil, err
		}
		if len(b) == 0 || int(b[0]) != vsn {
			return nil, fmt.Errorf("version byte is not %d", vsn)
		}
		if want := ml.ExportEncryptedLength(uint8(vsn), len(pt)); len(b) != want {
			return nil, fmt.Errorf("%d bytes, encryptedLength says %d", len(b), want)
		}
		got, err := ml.ExportDecryptPayload([][]byte{key}, b, aad)
		if err != nil {
			return nil, fmt.Errorf("decryptPayload: %v", err)
		}
		if !bytes.Equal(got, pt) {
			return nil, fmt.Errorf("decrypts to %x, want %x", clip(got), clip(pt))
		}
		return nil, nil
	case "packet", "stream":
		keys, err := e.hexList("keys")
		if err != nil {
			return nil, err
		}
		label, _ := e["label"].(string)
		b, err := e.hexField("hex")
		if err != nil {
			return nil, err
		}
		want, ok := e["messages"].([]interface{})
		if !ok {
			return nil, fmt.Errorf("\"messages\": want an array")
		}
		var msgs []obj
		if kind == "packet" {
			_, msgs, err = receivePacket(b, keys, label)
		} else {
			_, msgs, err = receiveStream(b, keys, label)
		}
		if err != nil {
			return nil, err
		}
		return nil, compareMessages(kind == "stream", msgs, want)
	}
	return nil, fmt.Errorf("unknown kind %q", kind)
}

func verifyMessage(e entry) error {
	t, err := e.int("type")
	if err != nil {
		return err
	}
	b, err := e.hexField("hex")
	if err != nil {
		return err
	}
	fields, ok := e["fields"].(map[string]interface{})
	if !ok {
		return fmt.Errorf("\"fields\": want an object")
	}
	want, err := fieldsToStruct(t, fields)
	if err != nil {
		return err
	}
	got, err := decodeStruct(t, b)
	if err != nil {
		return fmt.Errorf("memberlist decode: %v", err)
	}
	if err := sameStruct(got, want); err != nil {
		return err
	}
	re, err := encodeStruct(t, want)
	if err != nil {
		return fmt.Errorf("memberlist encode: %v", err)
	}
	if !bytes.Equal(re, b) {
		return fmt.Errorf("memberlist encodes these fields differently: %s", firstDiff(re, b))
	}
	return nil
}

// compareMessages compares decoded messages with expected ones in a canonical
// form (fields through the Go struct; an empty byte string counts as null,
// since Go's decoder cannot tell them apart).
func compareMessages(stream bool, got []obj, want []interface{}) error {
	var gotJSON []interface{}
	d := json.NewDecoder(bytes.NewReader(mustMarshal(got)))
	d.UseNumber()
	if err := d.Decode(&gotJSON); err != nil {
		return err
	}
	if len(gotJSON) != len(want) {
		return fmt.Errorf("Go finds %d messages, the entry lists %d: Go sees %s", len(gotJSON), len(want), clipString(string(mustMarshal(got))))
	}
	for i := range want {
		g, err := canonMessage(stream, gotJSON[i])
		if err != nil {
			return fmt.Errorf("message %d (Go): %v", i, err)
		}
		w, err := canonMessage(stream, want[i])
		if err != nil {
			return fmt.Errorf("message %d: %v", i, err)
		}
		gb, wb := mustMarshal(g), mustMarshal(w)
		if !bytes.Equal(gb, wb) {
			return fmt.Errorf("message %d: Go decodes %s, the entry says %s", i, clipString(string(gb)), clipString(string(wb)))
		}
	}
	return nil
}

func canonHex(v interface{}) (interface{}, error) {
	if v == nil {
		return nil, nil
	}
	s, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("want a hex string or null")
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, err
	}
	if len(b) == 0 {
		return nil, nil
	}
	return hex.EncodeToString(b), nil
}

func canonFields(t int, v interface{}) (obj, error) {
	m, ok := v.(map[string]interface{})
	if !ok {
		return nil, fmt.Errorf("fields: want an object")
	}
	s, err := fieldsToStruct(t, m)
	if err != nil {
		return nil, err
	}
	return structFields(s, true), nil
}

func canonMessage(stream bool, v interface{}) (obj, error) {
	m, ok := v.(map[string]interface{})
	if !ok {
		return nil, fmt.Errorf("want an object")
	}
	t64, err := jsonInt(m["type"])
	if err != nil {
		return nil, fmt.Errorf("type: %v", err)
	}
	t := int(t64)
	allowed := map[string]bool{"type": true}
	out := obj{{"type", t}}
	switch {
	case t == int(ml.WireUserMsg) && !stream:
		f, ok := m["fields"].(map[string]interface{})
		if !ok || len(f) != 1 {
			return nil, fmt.Errorf("user message: want fields {data}")
		}
		d, err := canonHex(f["data"])
		if err != nil {
			return nil, fmt.Errorf("data: %v", err)
		}
		out = append(out, kv{"fields", obj{{"data", d}}})
		allowed["fields"] = true
	case t == int(ml.WireUserMsg) && stream:
		d, err := canonHex(m["data"])
		if err != nil {
			return nil, fmt.Errorf("data: %v", err)
		}
		out = append(out, kv{"data", d})
		allowed["data"] = true
	case t == int(ml.WirePushPullMsg) && stream:
		h, err := canonFields(t, m["header"])
		if err != nil {
			return nil, fmt.Errorf("header: %v", err)
		}
		list, ok := m["nodes"].([]interface{})
		if !ok {
			return nil, fmt.Errorf("nodes: want an array")
		}
		nodes := []obj{}
		for i, n := range list {
			f, err := canonFields(typePushNodeState, n)
			if err != nil {
				return nil, fmt.Errorf("nodes[%d]: %v", i, err)
			}
			nodes = append(nodes, f)
		}
		us, err := canonHex(m["userState"])
		if err != nil {
			return nil, fmt.Errorf("userState: %v", err)
		}
		out = append(out, kv{"header", h}, kv{"nodes", nodes}, kv{"userState", us})
		allowed["header"], allowed["nodes"], allowed["userState"] = true, true, true
	default:
		f, err := canonFields(t, m["fields"])
		if err != nil {
			return nil, err
		}
		out = append(out, kv{"fields", f})
		allowed["fields"] = true
	}
	for k := range m {
		if !allowed[k] {
			return nil, fmt.Errorf("unexpected key %q", k)
		}
	}
	return out, nil
}

// firstDiff describes where Go's bytes (want) and the entry's bytes (got) part.
func firstDiff(want, got []byte) string {
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	from := i - 8
	if from < 0 {
		from = 0
	}
	end := func(b []byte) []byte {
		if i+24 < len(b) {
			return b[from : i+24]
		}
		return b[from:]
	}
	return fmt.Sprintf("first difference at byte %d of %d/%d: Go %x, entry %x (from byte %d)", i, len(want), len(got), end(want), end(got), from)
}

func clip(b []byte) []byte {
	if len(b) > 96 {
		return b[:96]
	}
	return b
}

func clipString(s string) string {
	if len(s) > 400 {
		return s[:400] + "…"
	}
	return strings.TrimSpace(s)
}
