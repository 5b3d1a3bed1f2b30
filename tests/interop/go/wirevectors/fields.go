// SPDX-License-Identifier: MPL-2.0

package main

// Conversions between memberlist's wire structs and the `fields` objects of
// the vectors: one key per struct field, named as our TypeScript codec names
// it (Go's field name with the first letter lowered), []byte as lowercase hex
// (nil as null), strings as strings, integers as numbers, bools as bools.

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"

	ml "github.com/hashicorp/memberlist"
)

// typePushNodeState is the pseudo message type of pushNodeState vectors: the
// struct is encoded on its own, without a type byte.
const typePushNodeState = -1

// structByType returns a new zero struct (as a pointer) for a message type
// number as used in `message` vectors. Type 8 is userMsgHeader (the stream
// header), not the raw packet user message.
func structByType(t int) (interface{}, error) {
	switch t {
	case int(ml.WirePingMsg):
		return &ml.WirePing{}, nil
	case int(ml.WireIndirectPingMsg):
		return &ml.WireIndirectPingReq{}, nil
	case int(ml.WireAckRespMsg):
		return &ml.WireAckResp{}, nil
	case int(ml.WireSuspectMsg):
		return &ml.WireSuspect{}, nil
	case int(ml.WireAliveMsg):
		return &ml.WireAlive{}, nil
	case int(ml.WireDeadMsg):
		return &ml.WireDead{}, nil
	case int(ml.WirePushPullMsg):
		return &ml.WirePushPullHeader{}, nil
	case int(ml.WireUserMsg):
		return &ml.WireUserMsgHeader{}, nil
	case int(ml.WireCompressMsg):
		return &ml.WireCompress{}, nil
	case int(ml.WireNackRespMsg):
		return &ml.WireNackResp{}, nil
	case int(ml.WireErrMsg):
		return &ml.WireErrResp{}, nil
	case typePushNodeState:
		return &ml.WirePushNodeState{}, nil
	}
	return nil, fmt.Errorf("no wire struct for message type %d", t)
}

// tsName is the TypeScript field name for a Go field name.
func tsName(goName string) string {
	return strings.ToLower(goName[:1]) + goName[1:]
}

var byteSliceType = reflect.TypeOf([]byte(nil))

// structFields turns a wire struct (or a pointer to one) into an ordered
// fields object, in Go declaration order. With emptyAsNil, an empty non-nil
// []byte is reported as null, which is how Go's decoder hands it back.
func structFields(v interface{}, emptyAsNil bool) obj {
	rv := reflect.Indirect(reflect.ValueOf(v))
	rt := rv.Type()
	out := obj{}
	for i := 0; i < rt.NumField(); i++ {
		f := rt.Field(i)
		fv := rv.Field(i)
		var val interface{}
		switch {
		case f.Type == byteSliceType || (f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Uint8):
			b := fv.Bytes()
			if b == nil || (emptyAsNil && len(b) == 0) {
				val = nil
			} else {
				val = hex.EncodeToString(b)
			}
		case fv.Kind() == reflect.String:
			val = fv.String()
		case fv.Kind() == reflect.Bool:
			val = fv.Bool()
		case fv.Kind() >= reflect.Int && fv.Kind() <= reflect.Int64:
			val = fv.Int()
		case fv.Kind() >= reflect.Uint && fv.Kind() <= reflect.Uint64:
			val = fv.Uint()
		default:
			panic(fmt.Sprintf("unsupported field %s of kind %s", f.Name, fv.Kind()))
		}
		out = append(out, kv{tsName(f.Name), val})
	}
	return out
}

// fieldsToStruct builds the wire struct for message type t from a fields
// object decoded from JSON (numbers as json.Number or float64). A missing key
// means the Go zero value; an unknown key is an error. "" for a []byte field
// gives an empty non-nil slice, null gives nil.
func fieldsToStruct(t int, fields map[string]interface{}) (interface{}, error) {
	ptr, err := structByType(t)
	if err != nil {
		return nil, err
	}
	if err := fillStruct(ptr, fields); err != nil {
		return nil, err
	}
	return ptr, nil
}

func fillStruct(ptr interface{}, fields map[string]interface{}) error {
	rv := reflect.ValueOf(ptr).Elem()
	rt := rv.Type()
	known := map[string]bool{}
	for i := 0; i < rt.NumField(); i++ {
		f := rt.Field(i)
		name := tsName(f.Name)
		known[name] = true
		raw, ok := fields[name]
		if !ok {
			continue
		}
		fv := rv.Field(i)
		switch {
		case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Uint8:
			if raw == nil {
				continue
			}
			s, ok := raw.(string)
			if !ok {
				return fmt.Errorf("field %q: want a hex string or null, got %T", name, raw)
			}
			b, err := hex.DecodeString(s)
			if err != nil {
				return fmt.Errorf("field %q: %v", name, err)
			}
			fv.SetBytes(b)
		case fv.Kind() == reflect.String:
			s, ok := raw.(string)
			if !ok {
				return fmt.Errorf("field %q: want a string, got %T", name, raw)
			}
			fv.SetString(s)
		case fv.Kind() == reflect.Bool:
			b, ok := raw.(bool)
			if !ok {
				return fmt.Errorf("field %q: want a boolean, got %T", name, raw)
			}
			fv.SetBool(b)
		case fv.Kind() >= reflect.Int && fv.Kind() <= reflect.Int64:
			n, err := jsonInt(raw)
			if err != nil {
				return fmt.Errorf("field %q: %v", name, err)
			}
			if fv.OverflowInt(n) {
				return fmt.Errorf("field %q: %d does not fit %s", name, n, fv.Type())
			}
			fv.SetInt(n)
		case fv.Kind() >= reflect.Uint && fv.Kind() <= reflect.Uint64:
			n, err := jsonInt(raw)
			if err != nil {
				return fmt.Errorf("field %q: %v", name, err)
			}
			if n < 0 || fv.OverflowUint(uint64(n)) {
				return fmt.Errorf("field %q: %d does not fit %s", name, n, fv.Type())
			}
			fv.SetUint(uint64(n))
		default:
			return fmt.Errorf("field %q: unsupported kind %s", name, fv.Kind())
		}
	}
	var unknown []string
	for k := range fields {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("unknown field(s) %s for %s", strings.Join(unknown, ", "), rt.Name())
	}
	return nil
}

func jsonInt(raw interface{}) (int64, error) {
	switch n := raw.(type) {
	case json.Number:
		return n.Int64()
	case float64:
		if n != math.Trunc(n) || math.Abs(n) > 1<<53 {
			return 0, fmt.Errorf("%v is not an integer", n)
		}
		return int64(n), nil
	}
	return 0, fmt.Errorf("want a number, got %T", raw)
}

// sameStruct compares two wire structs field by field the way Go itself can
// tell them apart after decoding: a nil and an empty []byte are equal (Go's
// decoder returns nil for a zero-length string).
func sameStruct(a, b interface{}) error {
	va := reflect.Indirect(reflect.ValueOf(a))
	vb := reflect.Indirect(reflect.ValueOf(b))
	if va.Type() != vb.Type() {
		return fmt.Errorf("struct types differ: %s vs %s", va.Type(), vb.Type())
	}
	for i := 0; i < va.NumField(); i++ {
		fa, fb := va.Field(i), vb.Field(i)
		name := tsName(va.Type().Field(i).Name)
		if fa.Kind() == reflect.Slice {
			if !bytes.Equal(fa.Bytes(), fb.Bytes()) {
				return fmt.Errorf("field %q: decoded %x, expected %x", name, fa.Bytes(), fb.Bytes())
			}
			continue
		}
		if !reflect.DeepEqual(fa.Interface(), fb.Interface()) {
			return fmt.Errorf("field %q: decoded %#v, expected %#v", name, fa.Interface(), fb.Interface())
		}
	}
	return nil
}
