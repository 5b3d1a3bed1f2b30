// SPDX-License-Identifier: MPL-2.0

// This file is not part of memberlist. tests/interop/_go.ts copies it into an
// overlay GOPATH next to an unmodified copy of Debian's memberlist 0.2.2
// sources, so that our Go test programs can reach the package's unexported
// wire functions and structs. Every wrapper below only forwards its
// arguments; none of them changes what memberlist does.

package memberlist

import (
	"bytes"
	"io"
	"net"
	"time"

	"github.com/hashicorp/go-msgpack/codec"
)

// Exported names for the unexported wire structs. They are aliases, so values
// built with them are memberlist's own types and encode exactly as memberlist
// encodes them.
type (
	WirePing            = ping
	WireIndirectPingReq = indirectPingReq
	WireAckResp         = ackResp
	WireNackResp        = nackResp
	WireErrResp         = errResp
	WireSuspect         = suspect
	WireAlive           = alive
	WireDead            = dead
	WirePushPullHeader  = pushPullHeader
	WireUserMsgHeader   = userMsgHeader
	WirePushNodeState   = pushNodeState
	WireCompress        = compress
)

// Message type numbers, taken from memberlist's own constants.
const (
	WirePingMsg         = uint8(pingMsg)
	WireIndirectPingMsg = uint8(indirectPingMsg)
	WireAckRespMsg      = uint8(ackRespMsg)
	WireSuspectMsg      = uint8(suspectMsg)
	WireAliveMsg        = uint8(aliveMsg)
	WireDeadMsg         = uint8(deadMsg)
	WirePushPullMsg     = uint8(pushPullMsg)
	WireCompoundMsg     = uint8(compoundMsg)
	WireUserMsg         = uint8(userMsg)
	WireCompressMsg     = uint8(compressMsg)
	WireEncryptMsg      = uint8(encryptMsg)
	WireNackRespMsg     = uint8(nackRespMsg)
	WireHasCrcMsg       = uint8(hasCrcMsg)
	WireErrMsg          = uint8(errMsg)
)

// ExportEncode calls encode(): the type byte followed by the msgpack body.
func ExportEncode(msgType uint8, in interface{}) ([]byte, error) {
	buf, err := encode(messageType(msgType), in)
	if err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ExportDecode calls decode() (msgpack body only, no type byte).
func ExportDecode(buf []byte, out interface{}) error {
	return decode(buf, out)
}

// ExportMakeCompoundMessage calls makeCompoundMessage().
func ExportMakeCompoundMessage(msgs [][]byte) []byte {
	return makeCompoundMessage(msgs).Bytes()
}

// ExportDecodeCompoundMessage calls decodeCompoundMessage() on the bytes after
// the compound type byte.
func ExportDecodeCompoundMessage(buf []byte) (int, [][]byte, error) {
	return decodeCompoundMessage(buf)
}

// ExportCompressPayload calls compressPayload(): a complete type-9 message.
func ExportCompressPayload(in []byte) ([]byte, error) {
	buf, err := compressPayload(in)
	if err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ExportDecompressPayload calls decompressPayload() on the bytes after the
// compress type byte.
func ExportDecompressPayload(msg []byte) ([]byte, error) {
	return decompressPayload(msg)
}

// ExportDecompressBuffer calls decompressBuffer().
func ExportDecompressBuffer(c *WireCompress) ([]byte, error) {
	return decompressBuffer(c)
}

// ExportEncryptPayload calls encryptPayload() into a fresh buffer.
func ExportEncryptPayload(vsn uint8, key, msg, data []byte) ([]byte, error) {
	var buf bytes.Buffer
	if err := encryptPayload(encryptionVersion(vsn), key, msg, data, &buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ExportDecryptPayload calls decryptPayload(). It decrypts in place, so it is
// given a copy of msg.
func ExportDecryptPayload(keys [][]byte, msg, data []byte) ([]byte, error) {
	return decryptPayload(keys, append([]byte(nil), msg...), data)
}

// ExportEncryptedLength calls encryptedLength().
func ExportEncryptedLength(vsn uint8, n int) int {
	return encryptedLength(encryptionVersion(vsn), n)
}

// StreamReader runs memberlist's own stream receive functions (readStream,
// readRemoteState, readUserMsg) over bytes that one side of a stream wrote.
// It is a Memberlist value holding only the configuration those functions read.
type StreamReader struct {
	m *Memberlist
	// Received holds what readUserMsg handed to the delegate.
	Received [][]byte
}

// NewStreamReader makes a reader that decrypts with keys (none: encryption
// disabled) the way a node with that keyring and GossipVerifyIncoming = true
// would. protocolVersion and bindPort matter only for readRemoteState's port
// fix-up; pass 2 and 0 to see the ports as sent.
func NewStreamReader(keys [][]byte, protocolVersion uint8, bindPort int) (*StreamReader, error) {
	conf := DefaultLANConfig()
	conf.ProtocolVersion = protocolVersion
	conf.BindPort = bindPort
	conf.GossipVerifyIncoming = true
	if len(keys) > 0 {
		ring, err := NewKeyring(keys[1:], keys[0])
		if err != nil {
			return nil, err
		}
		conf.Keyring = ring
	}
	r := &StreamReader{}
	conf.Delegate = &streamReaderDelegate{r}
	r.m = &Memberlist{config: conf}
	return r, nil
}

// ReadStream calls readStream() on the bytes and returns the message type,
// the remaining body and the msgpack decoder memberlist would continue with.
func (r *StreamReader) ReadStream(b []byte) (uint8, io.Reader, *codec.Decoder, error) {
	t, rd, dec, err := r.m.readStream(&byteConn{Reader: bytes.NewReader(b)})
	return uint8(t), rd, dec, err
}

// ReadRemoteState calls readRemoteState() (the body of a push/pull message).
func (r *StreamReader) ReadRemoteState(rd io.Reader, dec *codec.Decoder) (bool, []WirePushNodeState, []byte, error) {
	return r.m.readRemoteState(rd, dec)
}

// ReadUserMsg calls readUserMsg() (the body of a stream user message); what it
// delivers is appended to r.Received.
func (r *StreamReader) ReadUserMsg(rd io.Reader, dec *codec.Decoder) error {
	return r.m.readUserMsg(rd, dec)
}

type streamReaderDelegate struct{ r *StreamReader }

func (d *streamReaderDelegate) NodeMeta(int) []byte { return nil }
func (d *streamReaderDelegate) NotifyMsg(b []byte) {
	d.r.Received = append(d.r.Received, append([]byte(nil), b...))
}
func (d *streamReaderDelegate) GetBroadcasts(int, int) [][]byte { return nil }
func (d *streamReaderDelegate) LocalState(bool) []byte          { return nil }
func (d *streamReaderDelegate) MergeRemoteState([]byte, bool)   {}

// byteConn is a read-only net.Conn over a byte slice.
type byteConn struct{ *bytes.Reader }

func (c *byteConn) Write(b []byte) (int, error)      { return 0, io.ErrClosedPipe }
func (c *byteConn) Close() error                     { return nil }
func (c *byteConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *byteConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *byteConn) SetDeadline(time.Time) error      { return nil }
func (c *byteConn) SetReadDeadline(time.Time) error  { return nil }
func (c *byteConn) SetWriteDeadline(time.Time) error { return nil }
