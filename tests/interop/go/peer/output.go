// SPDX-License-Identifier: MPL-2.0

package main

// The event stream on stdout: one JSON object per line. Delegate callbacks run
// while memberlist holds its locks, so emitting never blocks: lines go to an
// unbounded queue that one goroutine writes out, flushing after each batch.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

type output struct {
	mu     sync.Mutex
	cond   *sync.Cond
	lines  [][]byte
	closed bool
	done   chan struct{}
	// events lists the event kinds written (nil: all); results, ready and
	// error lines are always written.
	events map[string]bool
}

func newOutput(w io.Writer, events map[string]bool) *output {
	o := &output{done: make(chan struct{}), events: events}
	o.cond = sync.NewCond(&o.mu)
	go o.run(w)
	return o
}

func (o *output) wants(kind string) bool {
	return o.events == nil || o.events[kind]
}

// emit queues one line. v must marshal to a JSON object.
func (o *output) emit(v interface{}) {
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(map[string]string{"event": "error", "error": fmt.Sprintf("cannot encode an event: %v", err)})
	}
	o.mu.Lock()
	if !o.closed {
		o.lines = append(o.lines, b)
		o.cond.Signal()
	}
	o.mu.Unlock()
}

func (o *output) run(w io.Writer) {
	defer close(o.done)
	bw := bufio.NewWriterSize(w, 64<<10)
	for {
		o.mu.Lock()
		for len(o.lines) == 0 && !o.closed {
			o.cond.Wait()
		}
		batch, closed := o.lines, o.closed
		o.lines = nil
		o.mu.Unlock()
		for _, line := range batch {
			bw.Write(line)
			bw.WriteByte('\n')
		}
		if err := bw.Flush(); err != nil {
			// Nobody reads our events any more: nothing left to do.
			fmt.Fprintf(os.Stderr, "peer: cannot write to stdout: %v\n", err)
			os.Exit(0)
		}
		if closed {
			return
		}
	}
}

// close writes out what is queued and stops accepting lines.
func (o *output) close() {
	o.mu.Lock()
	o.closed = true
	o.cond.Signal()
	o.mu.Unlock()
	<-o.done
}

// unixMs is a wall-clock time in milliseconds since the Unix epoch, to the
// microsecond.
func unixMs(t time.Time) float64 {
	return float64(t.UnixNano()/1000) / 1000
}
