// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0

// Command suspicion_vectors prints what memberlist's own remainingSuspicionTime
// (called through shim/zz_export.go) returns, for tests/suspicion_test.ts. Run it
// with run.sh, which sets up the GOPATH it needs:
//
//	tests/testdata/go/suspicion_vectors/run.sh table
//	tests/testdata/go/suspicion_vectors/run.sh sweep 100000 1
//
// Modes:
//
//	table  prints [n, k, elapsedMs, minMs, maxMs, expectedMs] rows as a
//	       TypeScript array literal: Go's own test table, the tricky cases
//	       below, then a grid whose (min, max) pairs are those of Go's tests,
//	       the worked numbers of the LAN, WAN and local configurations, and a
//	       few odd ones, with k 0..6 (7..12 for the LAN pair) and n 0..k+1
//	sweep  prints N random cases (seeded), one "n k elapsed min max expected"
//	       line each, all in milliseconds, for a one-off comparison across runtimes
package main

import (
	"fmt"
	"math/rand"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/memberlist"
)

func remainingMs(n, k int32, elapsed, min, max int64) int64 {
	d := memberlist.ExportRemainingSuspicionTime(n, k,
		time.Duration(elapsed)*time.Millisecond,
		time.Duration(min)*time.Millisecond,
		time.Duration(max)*time.Millisecond)
	if d%time.Millisecond != 0 {
		panic(fmt.Sprintf("not whole milliseconds: %d ns", d))
	}
	return int64(d / time.Millisecond)
}

// pairs are (min, max) in milliseconds.
var pairs = [][2]int64{
	{2000, 30000},   // Go's TestSuspicion_remainingSuspicionTime
	{500, 2000},     // Go's TestSuspicion_Timer
	{4000, 24000},   // LAN, n <= 10
	{4164, 24984},   // LAN, n = 11
	{5204, 31224},   // LAN, n = 20
	{6792, 40752},   // LAN, n = 50
	{3123, 18738},   // local, n = 11
	{5094, 30564},   // local, n = 50
	{31230, 187380}, // WAN, n = 11
	{50940, 305640}, // WAN, n = 50
	{1, 2},
	{999, 1001},
	{1234, 98765},
}

// tricky are [n, k, elapsed, min, max] cases that an obvious port gets wrong by
// one millisecond (found with the sweep mode).
var tricky = [][5]int64{
	// ln 3 / ln 9 is 0.4999999999999999 in Go but 0.5 with Math.log on Deno and
	// Bun, whose ln 3 is one ulp higher.
	{2, 8, 0, 84115, 133989},
	{2, 8, 0, 249347, 1816469},
	{2, 8, 0, 25653, 140855},
	// Duration.Seconds() is whole seconds + nanoseconds / 1e9, which is not
	// always the double nearest to ms / 1000.
	{1, 3, 0, 1515, 4023},
	{1, 7, 0, 497, 1235},
	{3, 7, 0, 6560, 33431},
	{3, 7, 0, 13081, 15694},
	{1, 3, 5642, 6685, 7913},
	// 1000 × 2.611 is 2610.9999999999995, so the floor loses a millisecond.
	{0, 1, 0, 365, 2611},
	{0, 3, 0, 5101, 10944},
}

func table() {
	var rows []string
	// Go's own table first, with its elapsed times.
	for _, c := range [][3]int64{{0, 3, 0}, {1, 3, 2000}, {2, 3, 3000}, {3, 3, 4000}, {4, 3, 5000}, {5, 3, 10000}} {
		rows = append(rows, fmt.Sprintf("[%d, %d, %d, 2000, 30000, %d]", c[0], c[1], c[2],
			remainingMs(int32(c[0]), int32(c[1]), c[2], 2000, 30000)))
	}
	for _, c := range tricky {
		rows = append(rows, fmt.Sprintf("[%d, %d, %d, %d, %d, %d]", c[0], c[1], c[2], c[3], c[4],
			remainingMs(int32(c[0]), int32(c[1]), c[2], c[3], c[4])))
	}
	grid := func(p [2]int64, kFrom, kTo int32) {
		for k := kFrom; k <= kTo; k++ {
			for n := int32(0); n <= k+1; n++ {
				rows = append(rows, fmt.Sprintf("[%d, %d, 0, %d, %d, %d]", n, k, p[0], p[1], remainingMs(n, k, 0, p[0], p[1])))
			}
		}
	}
	for _, p := range pairs {
		grid(p, 0, 6)
	}
	// Larger k (a high SuspicionMult) for the LAN bounds.
	grid(pairs[2], 7, 12)
	fmt.Println("// [n, k, elapsedMs, minMs, maxMs, expectedMs], printed by tests/testdata/go/suspicion_vectors")
	fmt.Println("// deno-fmt-ignore")
	fmt.Println("const GO_REMAINING: readonly (readonly [number, number, number, number, number, number])[] = [")
	for i := 0; i < len(rows); i += 3 {
		end := i + 3
		if end > len(rows) {
			end = len(rows)
		}
		fmt.Printf("  %s,\n", strings.Join(rows[i:end], ", "))
	}
	fmt.Println("];")
}

func sweep(count int, seed int64) {
	r := rand.New(rand.NewSource(seed))
	for i := 0; i < count; i++ {
		k := int32(1 + r.Intn(10))
		n := int32(r.Intn(int(k) + 1))
		min := 1 + r.Int63n(300000)
		max := min + r.Int63n(min*9+1)
		elapsed := int64(0)
		if r.Intn(4) == 0 {
			elapsed = r.Int63n(max + 1)
		}
		fmt.Println(n, k, elapsed, min, max, remainingMs(n, k, elapsed, min, max))
	}
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: run.sh table | run.sh sweep N SEED")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "table":
		table()
	case "sweep":
		count, err1 := strconv.Atoi(os.Args[2])
		seed, err2 := strconv.ParseInt(os.Args[3], 10, 64)
		if err1 != nil || err2 != nil {
			fmt.Fprintln(os.Stderr, "usage: run.sh sweep N SEED")
			os.Exit(2)
		}
		sweep(count, seed)
	default:
		fmt.Fprintln(os.Stderr, "unknown mode", os.Args[1])
		os.Exit(2)
	}
}
