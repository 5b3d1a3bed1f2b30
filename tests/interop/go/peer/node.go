// SPDX-License-Identifier: MPL-2.0

package main

// One memberlist node of the peer, with its delegates. The node is its own
// Delegate (meta, user messages, user broadcasts, push/pull state) and
// EventDelegate (join, leave and update events).

import (
	"encoding/hex"
	"sync"
	"sync/atomic"
	"time"

	ml "github.com/hashicorp/memberlist"
)

type node struct {
	idx  int
	name string
	out  *output
	t    *faultTransport
	conf *ml.Config
	list atomic.Pointer[ml.Memberlist] // nil until Create returns
	down atomic.Bool                   // shut down (by shutdown, leave or exit)

	mu         sync.Mutex
	meta       []byte
	localState []byte

	queue *ml.TransmitLimitedQueue
}

func newNode(idx int, name string, out *output, meta []byte) *node {
	n := &node{idx: idx, name: name, out: out, meta: meta}
	n.queue = &ml.TransmitLimitedQueue{
		NumNodes: func() int {
			if m := n.list.Load(); m != nil {
				return m.NumMembers()
			}
			return 1
		},
	}
	return n
}

func (n *node) address() string {
	m := n.list.Load()
	ln := m.LocalNode()
	return ln.Address()
}

// ---- Delegate ----

func (n *node) NodeMeta(limit int) []byte {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.meta) > limit {
		// Never reached: update-meta refuses such values, and so does
		// startup. Returning more than limit would make memberlist panic.
		return append([]byte(nil), n.meta[:limit]...)
	}
	return append([]byte(nil), n.meta...)
}

func (n *node) NotifyMsg(b []byte) {
	if !n.out.wants("msg") {
		return
	}
	n.out.emit(msgEvent{Event: "msg", Observer: n.name, Data: hex.EncodeToString(b), T: unixMs(time.Now())})
}

func (n *node) GetBroadcasts(overhead, limit int) [][]byte {
	return n.queue.GetBroadcasts(overhead, limit)
}

func (n *node) LocalState(join bool) []byte {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]byte(nil), n.localState...)
}

func (n *node) MergeRemoteState(buf []byte, join bool) {
	if !n.out.wants("merge") {
		return
	}
	n.out.emit(mergeEvent{Event: "merge", Observer: n.name, Data: hex.EncodeToString(buf), Join: join, T: unixMs(time.Now())})
}

// ---- EventDelegate ----

func (n *node) NotifyJoin(other *ml.Node)   { n.nodeEvent("join", other) }
func (n *node) NotifyLeave(other *ml.Node)  { n.nodeEvent("leave", other) }
func (n *node) NotifyUpdate(other *ml.Node) { n.nodeEvent("update", other) }

func (n *node) nodeEvent(kind string, other *ml.Node) {
	if !n.out.wants(kind) {
		return
	}
	ev := nodeEvent{
		Event:    kind,
		Observer: n.name,
		Node:     other.Name,
		Addr:     other.Addr.String(),
		Port:     other.Port,
		Meta:     hex.EncodeToString(other.Meta),
		State:    "alive",
		T:        unixMs(time.Now()),
	}
	// The Node handed to us has no state in 0.2.2; its record has. We run
	// inside memberlist's node lock here, which the shim relies on.
	if st, ok := ml.PeerStateInCallback(n.list.Load(), other); ok {
		ev.State = stateName(st.State)
		inc := st.Incarnation
		ev.Incarnation = &inc
	}
	n.out.emit(ev)
}

func stateName(s ml.NodeStateType) string {
	switch s {
	case ml.StateAlive:
		return "alive"
	case ml.StateSuspect:
		return "suspect"
	case ml.StateDead:
		return "dead"
	case ml.StateLeft:
		return "left"
	}
	return "unknown"
}

// userBroadcast is a user message queued by the broadcast command. Each one
// is sent on its own: none replaces another.
type userBroadcast struct{ msg []byte }

func (b *userBroadcast) Invalidates(ml.Broadcast) bool { return false }
func (b *userBroadcast) Message() []byte               { return b.msg }
func (b *userBroadcast) Finished()                     {}
func (b *userBroadcast) UniqueBroadcast()              {}

// ---- events ----

type nodeEvent struct {
	Event       string  `json:"event"`
	Observer    string  `json:"observer"`
	Node        string  `json:"node"`
	Addr        string  `json:"addr"`
	Port        uint16  `json:"port"`
	Meta        string  `json:"meta"`
	State       string  `json:"state"`
	Incarnation *uint32 `json:"incarnation,omitempty"`
	T           float64 `json:"t"`
}

type msgEvent struct {
	Event    string  `json:"event"`
	Observer string  `json:"observer"`
	Data     string  `json:"data"`
	T        float64 `json:"t"`
}

type mergeEvent struct {
	Event    string  `json:"event"`
	Observer string  `json:"observer"`
	Data     string  `json:"data"`
	Join     bool    `json:"join"`
	T        float64 `json:"t"`
}
