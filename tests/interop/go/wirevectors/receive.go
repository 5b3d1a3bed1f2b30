// SPDX-License-Identifier: MPL-2.0

package main

// The receive paths: what a memberlist 0.2.2 node does with a datagram or with
// what one side of a stream wrote, down to the messages it dispatches. The
// packet path calls memberlist's decryptPayload, decodeCompoundMessage,
// decompressPayload and decode; the CRC check is inline in memberlist
// (ingestPacket), so it is repeated here. The stream path runs memberlist's own
// readStream, readRemoteState and readUserMsg. Labels do not exist in 0.2.2:
// the label header is parsed here as the spec (section 2.2) describes, and the
// label is passed as GCM additional data.

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"io"

	ml "github.com/hashicorp/memberlist"
)

const hasLabelMsg = 244

// stripLabel parses a label header if the buffer starts with one.
func stripLabel(buf []byte) (label string, rest []byte, has bool, err error) {
	if len(buf) == 0 || buf[0] != hasLabelMsg {
		return "", buf, false, nil
	}
	if len(buf) < 2 {
		return "", nil, true, fmt.Errorf("label header too short")
	}
	n := int(buf[1])
	if n == 0 {
		return "", nil, true, fmt.Errorf("label header with an empty label")
	}
	if len(buf) < 2+n {
		return "", nil, true, fmt.Errorf("label header truncated")
	}
	return string(buf[2 : 2+n]), buf[2+n:], true, nil
}

func labelAAD(label string) []byte {
	if label == "" {
		return nil
	}
	return []byte(label)
}

// receivePacket runs the packet receive path (ingestPacket, handleCommand) and
// returns the wrappers met and the leaf messages, each as {type, fields}.
// Anything a 0.2.2 node would drop (or crash on) is an error here.
func receivePacket(buf []byte, keys [][]byte, label string) ([]string, []obj, error) {
	var layers []string
	got, rest, has, err := stripLabel(buf)
	if err != nil {
		return nil, nil, err
	}
	if has {
		layers = append(layers, "label")
		if got != label {
			return nil, nil, fmt.Errorf("packet label %q, expected %q", got, label)
		}
	} else if label != "" {
		return nil, nil, fmt.Errorf("packet has no label header, expected label %q", label)
	}
	if len(keys) > 0 {
		if len(rest) == 0 {
			return nil, nil, fmt.Errorf("empty packet")
		}
		vsn := rest[0]
		plain, err := ml.ExportDecryptPayload(keys, rest, labelAAD(label))
		if err != nil {
			return nil, nil, fmt.Errorf("decryptPayload: %v", err)
		}
		layers = append(layers, fmt.Sprintf("encrypt v%d", vsn))
		rest = plain
	}
	if len(rest) >= 5 && rest[0] == ml.WireHasCrcMsg {
		want := binary.BigEndian.Uint32(rest[1:5])
		if got := crc32.ChecksumIEEE(rest[5:]); got != want {
			return nil, nil, fmt.Errorf("CRC mismatch: header %08x, computed %08x", want, got)
		}
		layers = append(layers, "crc")
		rest = rest[5:]
	}
	var msgs []obj
	if err := handleCommand(rest, &layers, &msgs, 0); err != nil {
		return nil, nil, err
	}
	return layers, msgs, nil
}

func handleCommand(buf []byte, layers *[]string, msgs *[]obj, depth int) error {
	if depth > 8 {
		return fmt.Errorf("messages nested too deeply")
	}
	if len(buf) == 0 {
		return fmt.Errorf("empty message (memberlist 0.2.2 would index past the end)")
	}
	t, body := buf[0], buf[1:]
	switch t {
	case ml.WireCompoundMsg:
		trunc, parts, err := ml.ExportDecodeCompoundMessage(body)
		if err != nil {
			return fmt.Errorf("decodeCompoundMessage: %v", err)
		}
		if trunc > 0 {
			return fmt.Errorf("compound message has %d truncated parts", trunc)
		}
		*layers = append(*layers, fmt.Sprintf("compound(%d)", len(parts)))
		for _, p := range parts {
			if err := handleCommand(p, layers, msgs, depth+1); err != nil {
				return err
			}
		}
		return nil
	case ml.WireCompressMsg:
		payload, err := ml.ExportDecompressPayload(body)
		if err != nil {
			return fmt.Errorf("decompressPayload: %v", err)
		}
		*layers = append(*layers, "compress")
		return handleCommand(payload, layers, msgs, depth+1)
	case ml.WireUserMsg:
		*msgs = append(*msgs, obj{{"type", int(t)}, {"fields", obj{{"data", hex.EncodeToString(body)}}}})
		return nil
	case ml.WirePingMsg, ml.WireIndirectPingMsg, ml.WireAckRespMsg, ml.WireNackRespMsg,
		ml.WireSuspectMsg, ml.WireAliveMsg, ml.WireDeadMsg:
		v, err := structByType(int(t))
		if err != nil {
			return err
		}
		if err := ml.ExportDecode(body, v); err != nil {
			return fmt.Errorf("decode message type %d: %v", t, err)
		}
		*msgs = append(*msgs, obj{{"type", int(t)}, {"fields", structFields(v, true)}})
		return nil
	}
	return fmt.Errorf("message type %d is not handled in packets (memberlist drops it)", t)
}

// receiveStream reads what one side of a stream wrote, as readStream and the
// handlers after it do, and returns the wrappers met and the message.
func receiveStream(buf []byte, keys [][]byte, label string) ([]string, []obj, error) {
	var layers []string
	got, rest, has, err := stripLabel(buf)
	if err != nil {
		return nil, nil, err
	}
	if has {
		layers = append(layers, "label")
		if got != label {
			return nil, nil, fmt.Errorf("stream label %q, expected %q", got, label)
		}
	}
	if len(rest) == 0 {
		return nil, nil, fmt.Errorf("empty stream")
	}
	readerKeys := keys
	input := rest
	inner := rest
	if rest[0] == ml.WireEncryptMsg {
		if len(keys) == 0 {
			return nil, nil, fmt.Errorf("stream message is encrypted but no keys were given")
		}
		if len(rest) < 6 {
			return nil, nil, fmt.Errorf("encrypted stream message too short")
		}
		n := binary.BigEndian.Uint32(rest[1:5])
		if int(n) != len(rest)-5 {
			return nil, nil, fmt.Errorf("encrypted stream message announces %d bytes but %d follow", n, len(rest)-5)
		}
		aad := append(append([]byte(nil), rest[:5]...), label...)
		plain, err := ml.ExportDecryptPayload(keys, rest[5:], aad)
		if err != nil {
			return nil, nil, fmt.Errorf("decryptPayload: %v", err)
		}
		if len(plain) == 0 {
			return nil, nil, fmt.Errorf("encrypted stream message has an empty plaintext")
		}
		layers = append(layers, fmt.Sprintf("encrypt v%d", rest[5]))
		inner = plain
		if label != "" {
			// readStream in 0.2.2 knows no labels: decrypt here, let it read the plaintext.
			readerKeys = nil
			input = plain
		}
	}
	if inner[0] == ml.WireCompressMsg {
		layers = append(layers, "compress")
	}
	r, err := ml.NewStreamReader(readerKeys, 2, 0)
	if err != nil {
		return nil, nil, err
	}
	t, rd, dec, err := r.ReadStream(input)
	if err != nil {
		return nil, nil, fmt.Errorf("readStream: %v", err)
	}
	var msg obj
	switch t {
	case ml.WirePushPullMsg:
		join, nodes, userState, err := r.ReadRemoteState(rd, dec)
		if err != nil {
			return nil, nil, fmt.Errorf("readRemoteState: %v", err)
		}
		hdr := ml.WirePushPullHeader{Nodes: len(nodes), UserStateLen: len(userState), Join: join}
		list := make([]obj, len(nodes))
		for i := range nodes {
			list[i] = structFields(&nodes[i], true)
		}
		var us interface{}
		if userState != nil {
			us = hex.EncodeToString(userState)
		}
		msg = obj{{"type", int(t)}, {"header", structFields(&hdr, true)}, {"nodes", list}, {"userState", us}}
	case ml.WireUserMsg:
		if err := r.ReadUserMsg(rd, dec); err != nil {
			return nil, nil, fmt.Errorf("readUserMsg: %v", err)
		}
		var data []byte
		for _, b := range r.Received {
			data = append(data, b...)
		}
		msg = obj{{"type", int(t)}, {"data", hex.EncodeToString(data)}}
	case ml.WirePingMsg, ml.WireAckRespMsg, ml.WireErrMsg:
		v, err := structByType(int(t))
		if err != nil {
			return nil, nil, err
		}
		if err := dec.Decode(v); err != nil {
			return nil, nil, fmt.Errorf("decode message type %d: %v", t, err)
		}
		msg = obj{{"type", int(t)}, {"fields", structFields(v, true)}}
	default:
		return nil, nil, fmt.Errorf("message type %d is not handled on streams", t)
	}
	if extra, _ := io.ReadAll(rd); len(extra) > 0 {
		return nil, nil, fmt.Errorf("%d bytes left over after the message", len(extra))
	}
	return layers, []obj{msg}, nil
}
