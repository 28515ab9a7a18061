// Package storekit holds what the hub's two stores, cloud/sqlite and
// cloud/postgres, share word for word: pure Go helpers with no SQL in
// them and no difference between the dialects. The day numbers of the
// aggregates (DayOf, DayStart, IsMidnight, ClampTime), the checks of a
// statistics query (Dims, CompactStrings), and the derivation labels and
// associated data of the sealed personal data (the Purpose constants,
// AdOf, KeyCheckHex), which must stay the same in both stores so that a
// value sealed by one opens in the other with the same key file.
//
// Anything that builds or reads SQL stays in its store.
package storekit

import (
	"encoding/hex"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/cloud"
	"github.com/vetnet/vetnet/internal/keyring"
)

// The derivation labels (purposes) of the keys that seal a check-in's
// personal data. Both stores use the embedded store's labels, so a value
// sealed by one store opens in the other; changing one makes every
// sealed row unreadable.
const (
	PurposeIDNumber = "vetnet/cloud/sqlite/checkins/id_number/v1"
	PurposeName     = "vetnet/cloud/sqlite/checkins/name/v1"
	PurposeIDHash   = "vetnet/cloud/sqlite/checkins/id_hash/v1"
	PurposeCheck    = "vetnet/cloud/sqlite/check/v1"
)

// AdOf returns the associated data that binds a sealed field of a
// check-in to the check-in's ID.
func AdOf(id, field string) []byte { return []byte("checkin/" + id + "/" + field) }

// KeyCheckHex returns the key check of key k kept in a store's meta.
func KeyCheckHex(k []byte) string { return hex.EncodeToString(keyring.Derive(k, PurposeCheck)[:16]) }

// DayOf returns the day number of t in loc: whole days since 1970-01-01
// there.
func DayOf(t time.Time, loc *time.Location) int64 {
	lt := t.In(loc)
	_, off := lt.Zone()
	sec := t.Unix() + int64(off)
	d := sec / 86400
	if sec < 0 && sec%86400 != 0 {
		d--
	}
	return d
}

// DayStart returns the midnight of day number d in loc.
func DayStart(d int64, loc *time.Location) time.Time {
	return time.Date(1970, 1, 1+int(d), 0, 0, 0, 0, loc)
}

// IsMidnight reports whether t is a midnight in loc.
func IsMidnight(t time.Time, loc *time.Location) bool {
	lt := t.In(loc)
	return lt.Hour() == 0 && lt.Minute() == 0 && lt.Second() == 0 && lt.Nanosecond() == 0
}

// ClampTime brings t into the years 1680 to 2260, the range the stores'
// day numbers cover.
func ClampTime(t time.Time) time.Time {
	switch {
	case t.Year() < 1680:
		return time.Date(1680, 1, 1, 0, 0, 0, 0, time.UTC)
	case t.Year() > 2260:
		return time.Date(2260, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return t
}

// CompactStrings drops the repeats of sorted ss in place.
func CompactStrings(ss []string) []string {
	out := ss[:0]
	for i, v := range ss {
		if i == 0 || v != ss[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// Dims returns the dimensions q groups by, refusing any not in allowed.
func Dims(q cloud.StatsQuery, allowed ...cloud.Dim) (map[cloud.Dim]bool, error) {
	ok := map[cloud.Dim]bool{}
	for _, d := range allowed {
		ok[d] = true
	}
	out := map[cloud.Dim]bool{}
	for _, d := range q.GroupBy {
		if !ok[d] {
			return nil, vetnet.Errorz(vetnet.EINVALID, "不支持的统计维度: "+string(d), "Unsupported statistics dimension: "+string(d)+".")
		}
		out[d] = true
	}
	return out, nil
}
