// SPDX-License-Identifier: MPL-2.0

package main

// faultTransport wraps memberlist's NetTransport for one node. It counts the
// bytes that cross the node's sockets, and on command it loses every datagram
// (sent or received, so probes must fall back to TCP), or only those
// exchanged with given addresses (so probes must go through a relay), or holds inbound
// datagrams back for a while (a node too slow to answer probes in time), and
// optionally inbound connections too (then the TCP fallback ping fails as
// well).
//
// Byte counts are what crossed the sockets: a datagram dropped on the way out
// is not counted, one dropped on the way in is (it did arrive).

import (
	"log"
	"net"
	"sync"
	"sync/atomic"
	"time"

	ml "github.com/hashicorp/memberlist"
)

type faultTransport struct {
	inner    *ml.NetTransport
	packetCh chan *ml.Packet
	streamCh chan net.Conn
	done     chan struct{} // closed first by Shutdown: deliver nothing more
	stopped  chan struct{} // closed once the NetTransport has shut down
	stopOnce sync.Once
	wg       sync.WaitGroup

	dropUDP       atomic.Bool
	dropMu        sync.RWMutex
	dropFrom      map[string]bool // "ip:port": datagrams to and from these are lost
	delayNs       atomic.Int64    // inbound datagrams
	streamDelayNs atomic.Int64    // inbound connections
	delayed       chan delayedPacket

	udpIn, udpOut, tcpIn, tcpOut atomic.Uint64
}

type delayedPacket struct {
	p  *ml.Packet
	at time.Time
}

// maxDelayed bounds the datagrams held back by a slow node; more are lost,
// as a full socket buffer would lose them.
const maxDelayed = 8192

var _ ml.NodeAwareTransport = (*faultTransport)(nil)

// newFaultTransport binds UDP and TCP on addr:port (port 0: a free port; a
// few retries when the TCP port is free but not the UDP one).
func newFaultTransport(addr string, port int, logger *log.Logger) (*faultTransport, error) {
	var inner *ml.NetTransport
	var err error
	tries := 1
	if port == 0 {
		tries = 10
	}
	for i := 0; i < tries; i++ {
		inner, err = ml.NewNetTransport(&ml.NetTransportConfig{
			BindAddrs: []string{addr},
			BindPort:  port,
			Logger:    logger,
		})
		if err == nil {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	t := &faultTransport{
		inner:    inner,
		packetCh: make(chan *ml.Packet),
		streamCh: make(chan net.Conn),
		done:     make(chan struct{}),
		stopped:  make(chan struct{}),
		delayed:  make(chan delayedPacket, maxDelayed),
	}
	t.wg.Add(3)
	go t.forwardPackets()
	go t.deliverDelayed()
	go t.forwardStreams()
	return t, nil
}

func (t *faultTransport) port() int { return t.inner.GetAutoBindPort() }

// setDropPeers starts (on) or stops losing the datagrams exchanged with the
// given "ip:port" addresses, on top of dropUDP.
func (t *faultTransport) setDropPeers(addrs []string, on bool) {
	t.dropMu.Lock()
	defer t.dropMu.Unlock()
	if t.dropFrom == nil {
		t.dropFrom = map[string]bool{}
	}
	for _, a := range addrs {
		if on {
			t.dropFrom[a] = true
		} else {
			delete(t.dropFrom, a)
		}
	}
}

func (t *faultTransport) dropsPeer(addr string) bool {
	t.dropMu.RLock()
	defer t.dropMu.RUnlock()
	return len(t.dropFrom) > 0 && t.dropFrom[addr]
}

func (t *faultTransport) forwardPackets() {
	defer t.wg.Done()
	for {
		select {
		case p := <-t.inner.PacketCh():
			t.udpIn.Add(uint64(len(p.Buf)))
			if t.dropUDP.Load() || t.dropsPeer(p.From.String()) {
				continue
			}
			if d := time.Duration(t.delayNs.Load()); d > 0 {
				select {
				case t.delayed <- delayedPacket{p, p.Timestamp.Add(d)}:
				default: // too many held back: lost
				}
				continue
			}
			t.deliver(p)
		case <-t.done:
			t.drain()
			return
		}
	}
}

// drain discards what the NetTransport's listeners still hand over until it
// has shut down, so they are never stuck on a full channel.
func (t *faultTransport) drain() {
	for {
		select {
		case <-t.inner.PacketCh():
		case c := <-t.inner.StreamCh():
			c.Close()
		case <-t.stopped:
			return
		}
	}
}

// deliverDelayed hands held-back datagrams to memberlist in arrival order,
// each once its delay has passed. The receive timestamp becomes the delivery
// time, as if the node had only now read the datagram.
func (t *faultTransport) deliverDelayed() {
	defer t.wg.Done()
	for {
		select {
		case dp := <-t.delayed:
			if wait := time.Until(dp.at); wait > 0 {
				timer := time.NewTimer(wait)
				select {
				case <-timer.C:
				case <-t.done:
					timer.Stop()
					return
				}
			}
			if t.dropUDP.Load() || t.dropsPeer(dp.p.From.String()) {
				continue
			}
			dp.p.Timestamp = time.Now()
			t.deliver(dp.p)
		case <-t.done:
			return
		}
	}
}

func (t *faultTransport) deliver(p *ml.Packet) {
	select {
	case t.packetCh <- p:
	case <-t.done:
	}
}

func (t *faultTransport) forwardStreams() {
	defer t.wg.Done()
	for {
		select {
		case c := <-t.inner.StreamCh():
			conn := &countingConn{Conn: c, in: &t.tcpIn, out: &t.tcpOut}
			if d := time.Duration(t.streamDelayNs.Load()); d > 0 {
				go t.deliverStreamLater(conn, d)
				continue
			}
			select {
			case t.streamCh <- conn:
			case <-t.done:
				c.Close()
				t.drain()
				return
			}
		case <-t.done:
			t.drain()
			return
		}
	}
}

// deliverStreamLater hands an accepted connection to memberlist after d, as a
// node busy elsewhere would get to it late.
func (t *faultTransport) deliverStreamLater(c net.Conn, d time.Duration) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-t.done:
		c.Close()
		return
	}
	select {
	case t.streamCh <- c:
	case <-t.done:
		c.Close()
	}
}

func (t *faultTransport) FinalAdvertiseAddr(ip string, port int) (net.IP, int, error) {
	return t.inner.FinalAdvertiseAddr(ip, port)
}

func (t *faultTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	return t.WriteToAddress(b, ml.Address{Addr: addr})
}

func (t *faultTransport) WriteToAddress(b []byte, a ml.Address) (time.Time, error) {
	if t.dropUDP.Load() || t.dropsPeer(a.Addr) {
		return time.Now(), nil // lost on the way, as far as the sender can tell
	}
	ts, err := t.inner.WriteToAddress(b, a)
	if err == nil {
		t.udpOut.Add(uint64(len(b)))
	}
	return ts, err
}

func (t *faultTransport) PacketCh() <-chan *ml.Packet { return t.packetCh }

func (t *faultTransport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	return t.DialAddressTimeout(ml.Address{Addr: addr}, timeout)
}

func (t *faultTransport) DialAddressTimeout(a ml.Address, timeout time.Duration) (net.Conn, error) {
	c, err := t.inner.DialAddressTimeout(a, timeout)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, in: &t.tcpIn, out: &t.tcpOut}, nil
}

func (t *faultTransport) StreamCh() <-chan net.Conn { return t.streamCh }

// IngestPacket and IngestStream are required by 0.2.2's NodeAwareTransport;
// memberlist itself never calls them.
func (t *faultTransport) IngestPacket(conn net.Conn, addr net.Addr, now time.Time, shouldClose bool) error {
	return t.inner.IngestPacket(conn, addr, now, shouldClose)
}

func (t *faultTransport) IngestStream(conn net.Conn) error { return t.inner.IngestStream(conn) }

// Shutdown stops delivering to memberlist and closes the sockets. While the
// NetTransport shuts down, the forwarders drain whatever its listeners are
// still handing over.
func (t *faultTransport) Shutdown() error {
	var err error
	t.stopOnce.Do(func() {
		close(t.done)
		err = t.inner.Shutdown()
		close(t.stopped)
		t.wg.Wait()
	})
	return err
}

// countingConn adds the bytes read and written on a stream to the node's
// totals.
type countingConn struct {
	net.Conn
	in, out *atomic.Uint64
}

func (c *countingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.in.Add(uint64(n))
	return n, err
}

func (c *countingConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.out.Add(uint64(n))
	return n, err
}
