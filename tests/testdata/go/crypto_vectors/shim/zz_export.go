// Copyright (c) memberlist-ts authors. SPDX-License-Identifier: MPL-2.0

// This file is not built on its own. run.sh copies it into a scratch copy of
// Debian's memberlist 0.2.2 package so that main.go can call the package's
// unexported envelope functions. Nothing here changes memberlist's behaviour.

package memberlist

import "bytes"

// ExportEncryptPayload seals msg with key as memberlist does for packets and
// streams, returning the whole envelope.
func ExportEncryptPayload(vsn uint8, key, msg, aad []byte) ([]byte, error) {
	var out bytes.Buffer
	if err := encryptPayload(encryptionVersion(vsn), key, msg, aad, &out); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// ExportDecryptPayload opens an envelope with the first key that works.
func ExportDecryptPayload(keys [][]byte, msg, aad []byte) ([]byte, error) {
	return decryptPayload(keys, msg, aad)
}

// ExportEncryptedLength is the envelope size for a plaintext of n bytes.
func ExportEncryptedLength(vsn uint8, n int) int {
	return encryptedLength(encryptionVersion(vsn), n)
}
