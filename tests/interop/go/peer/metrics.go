// SPDX-License-Identifier: MPL-2.0

package main

// With --metrics the peer installs a go-metrics sink that adds up every
// counter memberlist increments (memberlist.msg.suspect, .alive, .dead,
// memberlist.degraded.probe, ...), for the whole process: memberlist 0.2.2
// reports to go-metrics' global instance, without labels, so the counts of
// all nodes are summed. The interop tests read them with the counters
// command: memberlist.msg.suspect counts the alive -> suspect transitions
// of every node, which no delegate reports. Gauges and samples are ignored.

import (
	"strings"
	"sync"

	metrics "github.com/armon/go-metrics"
)

type counterSink struct {
	mu       sync.Mutex
	counters map[string]float64
}

var _ metrics.MetricSink = (*counterSink)(nil)

// installCounterSink makes a counting sink go-metrics' global one.
func installCounterSink() (*counterSink, error) {
	s := &counterSink{counters: map[string]float64{}}
	conf := metrics.DefaultConfig("")
	conf.EnableHostname = false
	conf.EnableRuntimeMetrics = false
	conf.EnableServiceLabel = false
	if _, err := metrics.NewGlobal(conf, s); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *counterSink) snapshot() map[string]float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]float64, len(s.counters))
	for k, v := range s.counters {
		out[k] = v
	}
	return out
}

func (s *counterSink) IncrCounter(key []string, val float32) {
	k := strings.Join(key, ".")
	s.mu.Lock()
	s.counters[k] += float64(val)
	s.mu.Unlock()
}

func (s *counterSink) IncrCounterWithLabels(key []string, val float32, _ []metrics.Label) {
	s.IncrCounter(key, val)
}

func (*counterSink) SetGauge([]string, float32)                             {}
func (*counterSink) SetGaugeWithLabels([]string, float32, []metrics.Label)  {}
func (*counterSink) EmitKey([]string, float32)                              {}
func (*counterSink) AddSample([]string, float32)                            {}
func (*counterSink) AddSampleWithLabels([]string, float32, []metrics.Label) {}
