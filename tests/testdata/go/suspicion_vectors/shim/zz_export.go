// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0

// This file is not built on its own. run.sh copies it into a scratch copy of
// Debian's memberlist 0.2.2 package so that main.go can call the package's
// unexported suspicion arithmetic. Nothing here changes memberlist's behaviour.

package memberlist

import "time"

// ExportRemainingSuspicionTime calls remainingSuspicionTime unchanged.
func ExportRemainingSuspicionTime(n, k int32, elapsed, min, max time.Duration) time.Duration {
	return remainingSuspicionTime(n, k, elapsed, min, max)
}
