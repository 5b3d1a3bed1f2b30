// SPDX-License-Identifier: MPL-2.0

// This file is not part of memberlist. tests/interop/_go.ts copies it into the
// overlay copy of memberlist 0.2.2 (see export_wire.go). It lets the Go peer
// (tests/interop/go/peer) read the state memberlist keeps for each node: in
// 0.2.2 the State field of the Node values that Members() and the event
// delegate hand out is never set, the real one lives in the private record
// around them. For the benchmarks (bench/go/dissemination) it can also empty
// the broadcast queue and install a converged member table; those two change
// state, never how memberlist behaves.

package memberlist

import (
	"sync/atomic"
	"time"
)

// PeerNodeState is one node record as a memberlist instance sees it.
type PeerNodeState struct {
	Node        Node // a copy; Node.State is overwritten with State
	Incarnation uint32
	State       NodeStateType
	StateChange time.Time
}

// PeerNodeStates returns a copy of every node record m holds, dead and left
// ones included, in m's internal order. It takes m's node lock, so it must
// not be called from inside a delegate callback.
func PeerNodeStates(m *Memberlist) []PeerNodeState {
	m.nodeLock.RLock()
	defer m.nodeLock.RUnlock()
	out := make([]PeerNodeState, 0, len(m.nodes))
	for _, s := range m.nodes {
		out = append(out, peerCopy(s))
	}
	return out
}

// PeerStateInCallback returns the record behind n when n is the Node that m
// passed to an EventDelegate callback. memberlist holds its node lock for
// writing while it runs those callbacks, so this reads without locking and
// must only be called from inside one. ok is false when n is not one of m's
// records (m nil, unknown name, or a copy).
func PeerStateInCallback(m *Memberlist, n *Node) (st PeerNodeState, ok bool) {
	if m == nil || n == nil {
		return PeerNodeState{}, false
	}
	s, found := m.nodeMap[n.Name]
	if !found || &s.Node != n {
		return PeerNodeState{}, false
	}
	return peerCopy(s), true
}

func peerCopy(s *nodeState) PeerNodeState {
	n := s.Node
	n.Addr = append([]byte(nil), s.Addr...)
	n.Meta = append([]byte(nil), s.Meta...)
	n.State = s.State
	return PeerNodeState{Node: n, Incarnation: s.Incarnation, State: s.State, StateChange: s.StateChange}
}

// PeerNumQueuedBroadcasts is the length of m's own broadcast queue (alive,
// suspect and dead messages waiting to be gossiped).
func PeerNumQueuedBroadcasts(m *Memberlist) int {
	return m.broadcasts.NumQueued()
}

// PeerResetBroadcasts empties m's own broadcast queue, as benchmarks do once
// a cluster has converged so that the measurement starts from quiet queues.
func PeerResetBroadcasts(m *Memberlist) {
	m.broadcasts.Reset()
}

// PeerInjectMembers gives every instance in ms a record of every other one,
// alive at its current incarnation, without any message: the converged state
// a benchmark would otherwise reach by joining. Each table is shuffled with
// shuffle (called as rand.Shuffle is), as memberlist's random insert
// positions would leave it. No event delegate is called.
func PeerInjectMembers(ms []*Memberlist, shuffle func(n int, swap func(i, j int))) {
	templates := make([]nodeState, len(ms))
	for i, m := range ms {
		m.nodeLock.RLock()
		templates[i] = *m.nodeMap[m.config.Name]
		m.nodeLock.RUnlock()
	}
	now := time.Now()
	for _, m := range ms {
		m.nodeLock.Lock()
		for i := range templates {
			t := &templates[i]
			if _, ok := m.nodeMap[t.Name]; ok {
				continue
			}
			s := &nodeState{Node: t.Node, Incarnation: t.Incarnation, State: StateAlive, StateChange: now}
			m.nodes = append(m.nodes, s)
			m.nodeMap[s.Name] = s
		}
		shuffle(len(m.nodes), func(i, j int) { m.nodes[i], m.nodes[j] = m.nodes[j], m.nodes[i] })
		atomic.StoreUint32(&m.numNodes, uint32(len(m.nodes)))
		m.nodeLock.Unlock()
	}
}
