package vetnet

import (
	"fmt"
	"strings"
	"time"
)

// OpeningHours are a station's weekly opening hours, in the station's own
// time zone: for each weekday (time.Sunday = 0) the intervals it is open,
// in order and not overlapping. The zero value means "not published".
//
// The text form, one string per rule, is what the registry holds:
//
//	"mon-fri 08:30-12:00,14:00-17:30"
//	"sat 09:00-12:00"
//
// Days are mon tue wed thu fri sat sun, as a range ("mon-fri") or a list
// ("mon,wed"); a day named in no rule is closed; a day may be named in
// one rule only.
type OpeningHours struct {
	Rules []string          // the text, as written
	Days  [7][]OpenInterval // by time.Weekday
}

// OpenInterval is [From, To) in minutes after midnight.
type OpenInterval struct{ From, To int }

var dayNames = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// ParseOpeningHours parses rules of the text form. Errors: EINVALID naming
// the rule and what is wrong.
func ParseOpeningHours(rules []string) (OpeningHours, error) {
	h := OpeningHours{Rules: append([]string(nil), rules...)}
	named := [7]bool{}
	for i, r := range rules {
		fail := func(what string) (OpeningHours, error) {
			return OpeningHours{}, Errorf(EINVALID, "hours[%d] %q: %s", i, r, what)
		}
		days, times, ok := strings.Cut(strings.TrimSpace(r), " ")
		if !ok {
			return fail(`want "days HH:MM-HH:MM[,HH:MM-HH:MM]", e.g. "mon-fri 08:30-17:30"`)
		}
		ds, err := parseDays(days)
		if err != nil {
			return fail(err.Error())
		}
		var spans []OpenInterval
		for _, t := range strings.Split(strings.TrimSpace(times), ",") {
			a, b, ok := strings.Cut(strings.TrimSpace(t), "-")
			from, err1 := parseClock(a)
			to, err2 := parseClock(b)
			if !ok || err1 != nil || err2 != nil {
				return fail(fmt.Sprintf("%q is not a time range such as 08:30-12:00", t))
			}
			if to <= from {
				return fail(fmt.Sprintf("%q ends before it starts", t))
			}
			if n := len(spans); n > 0 && from < spans[n-1].To {
				return fail(fmt.Sprintf("%q overlaps or precedes the range before it", t))
			}
			spans = append(spans, OpenInterval{From: from, To: to})
		}
		for _, d := range ds {
			if named[d] {
				return fail(dayNames[d] + " is already named in another rule")
			}
			named[d] = true
			h.Days[d] = spans
		}
	}
	return h, nil
}

func parseDays(s string) ([]time.Weekday, error) {
	idx := func(n string) (int, error) {
		for i, d := range dayNames {
			if d == n {
				return i, nil
			}
		}
		return 0, fmt.Errorf("%q is not a day (mon tue wed thu fri sat sun)", n)
	}
	var out []time.Weekday
	for _, part := range strings.Split(s, ",") {
		a, b, isRange := strings.Cut(part, "-")
		i, err := idx(a)
		if err != nil {
			return nil, err
		}
		if !isRange {
			out = append(out, time.Weekday(i))
			continue
		}
		j, err := idx(b)
		if err != nil {
			return nil, err
		}
		// Monday-first ranges: "mon-sun" is the week, "sat-sun" the weekend.
		mi, mj := (i+6)%7, (j+6)%7
		if mj < mi {
			return nil, fmt.Errorf("%q runs backwards (the week starts on mon)", part)
		}
		for k := mi; k <= mj; k++ {
			out = append(out, time.Weekday((k+1)%7))
		}
	}
	return out, nil
}

func parseClock(s string) (int, error) {
	var hh, mm int
	if len(s) != 5 || s[2] != ':' {
		return 0, fmt.Errorf("bad time")
	}
	if _, err := fmt.Sscanf(s, "%02d:%02d", &hh, &mm); err != nil || hh > 24 || mm > 59 || (hh == 24 && mm != 0) {
		return 0, fmt.Errorf("bad time")
	}
	return hh*60 + mm, nil
}

// Published reports whether any hours are set.
func (h OpeningHours) Published() bool { return len(h.Rules) > 0 }

// OpenAt reports whether the station is open at t (in t's location, which
// should be the station's zone). Unpublished hours are always open.
func (h OpeningHours) OpenAt(t time.Time) bool {
	if !h.Published() {
		return true
	}
	m := t.Hour()*60 + t.Minute()
	for _, s := range h.Days[t.Weekday()] {
		if m >= s.From && m < s.To {
			return true
		}
	}
	return false
}
