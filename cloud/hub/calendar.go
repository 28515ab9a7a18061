package hub

import (
	"time"

	"github.com/vetnet/vetnet"
)

// Calendar tells working days from days off: Monday to Friday work,
// except public holidays; a make-up working day (调休) is a Saturday or
// Sunday that works, as China shifts days around its holidays.
type Calendar struct {
	Holidays map[string]bool // "2006-01-02": a day off although a weekday
	Workdays map[string]bool // "2006-01-02": a working day although a weekend
}

// NewCalendar returns a calendar of the given dates ("2006-01-02").
// Errors: EINVALID (a malformed date).
func NewCalendar(holidays, workdays []string) (Calendar, error) {
	c := Calendar{Holidays: map[string]bool{}, Workdays: map[string]bool{}}
	for _, list := range []struct {
		days []string
		set  map[string]bool
	}{{holidays, c.Holidays}, {workdays, c.Workdays}} {
		for _, d := range list.days {
			if _, err := time.Parse("2006-01-02", d); err != nil {
				return c, vetnet.Errorz(vetnet.EINVALID, "日期格式无效: "+d, "Not a date (YYYY-MM-DD): "+d)
			}
			list.set[d] = true
		}
	}
	return c, nil
}

// Working reports whether the day of t (in t's zone) is a working day.
func (c Calendar) Working(t time.Time) bool {
	d := t.Format("2006-01-02")
	if c.Workdays[d] {
		return true
	}
	if c.Holidays[d] {
		return false
	}
	wd := t.Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

// AddWorkingDays returns the end (23:59:59) of the n-th working day after
// the day of t, in loc: a rating on a Friday with n = 1 is due Monday
// night. The day of t itself does not count.
func (c Calendar) AddWorkingDays(t time.Time, n int, loc *time.Location) time.Time {
	lt := t.In(loc)
	d := time.Date(lt.Year(), lt.Month(), lt.Day(), 12, 0, 0, 0, loc) // noon: safe from DST edges
	for n > 0 {
		d = d.AddDate(0, 0, 1)
		if c.Working(d) {
			n--
		}
	}
	return time.Date(d.Year(), d.Month(), d.Day(), 23, 59, 59, 0, loc)
}
