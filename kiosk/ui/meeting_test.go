package ui

import (
	"strings"
	"testing"
	"time"

	"github.com/vetnet/vetnet/edge-agent/localapi"
	"github.com/vetnet/vetnet/kiosk/session"
)

func TestNextMeetingBand(t *testing.T) {
	h := start(t, TourStatus(), "zh")
	now := h.clock.Now()
	set := TourMeetings(now)
	set.Meetings[0].Start = now.Add(25 * time.Minute) // not rounded: whole minutes in the countdown
	set.Meetings[0].End = set.Meetings[0].Start.Add(90 * time.Minute)
	h.k.Step(session.MeetingsChanged{Meetings: set})
	m := set.Meetings[0]
	h.has("下次视频会议", "Next video meeting", "三季度就业政策", "培训", "距开始 25分钟", "starts in 25 min", "扫码入会 Scan to join")
	// Veterans are asked to tap their card once the roll-call opens.
	h.has("退役军人请刷身份证签到", "Veterans: tap your ID card")

	// The countdown runs with the clock, without rebuilding the screen.
	h.tick(10 * time.Minute)
	h.has("距开始 15分钟", "starts in 15 min")
	// Under way.
	h.tick(m.Start.Sub(h.clock.Now()) + time.Minute)
	h.has("视频会议进行中", "Meeting under way", "还剩 1小时29分钟", "1 h 29 min left")
	// Ended: the next one, tomorrow.
	h.tick(90 * time.Minute)
	h.has("督查督办例会", "距开始 22小时")
	h.lacks("三季度就业政策", "退役军人请刷身份证")

	// A cancelled meeting is not announced; with none left, no band.
	set.Meetings[1].Cancelled = true
	set.Now = h.clock.Now() // the agent's clock, with the new set
	h.k.Step(session.MeetingsChanged{Meetings: set})
	h.lacks("督查督办例会", "下次视频会议")
}

func TestMeetingRollCallButton(t *testing.T) {
	h := start(t, TourStatus(), "zh")
	h.k.Step(session.MeetingsChanged{Meetings: TourMeetings(h.clock.Now())})
	if h.button("rollcall") != nil {
		t.Fatal("a roll-call button on the attract screen")
	}
	h.k.Step(session.StaffSignedIn{Session: localapi.StaffSession{Session: "s1", ExpiresAt: h.clock.Now().Add(time.Hour),
		Staff: TourRoster().Staff[0], Via: "badge"}})
	h.wait(session.StaffMenu)
	h.has("三季度就业政策")
	// The fake agent has no roll-call: the staff member is told why, and
	// the button stays.
	h.tap("rollcall")
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(h.texts(), "会议签到") || h.button("rollcall") == nil || h.k.meetErr() == "" {
		if time.Now().After(deadline) {
			t.Fatalf("no answer to the roll-call:\n%s", h.texts())
		}
		time.Sleep(5 * time.Millisecond)
	}
	h.lacks("已签到")
}

// meetErr is the last roll-call error, read under the lock.
func (k *Kiosk) meetErr() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.meet.err
}

func TestTrainingCheckInAnswersTheRollCall(t *testing.T) {
	h := start(t, TourStatus(), "zh")
	now := h.clock.Now()
	set := TourMeetings(now)
	set.Meetings[0].Start = now.Add(2 * time.Hour) // roll-call not open yet
	h.k.Step(session.MeetingsChanged{Meetings: set})
	sub := func(svc string) string {
		h.k.mu.Lock()
		defer h.k.mu.Unlock()
		return h.k.meetingSubmission(session.Submission{Request: localapi.CheckInRequest{Token: "t", Service: svc}}).Request.Meeting
	}
	if m := sub("training"); m != "" {
		t.Fatalf("before the roll-call opened: meeting %q", m)
	}
	h.tick(time.Hour + 31*time.Minute) // 29 minutes before the start
	if m := sub("training"); m != set.Meetings[0].ID {
		t.Fatalf("roll-call open: meeting %q", m)
	}
	if m := sub("benefits"); m != "" {
		t.Fatalf("another service: meeting %q", m)
	}
	set.Meetings[0].Veterans = false
	set.Now = h.clock.Now()
	h.k.Step(session.MeetingsChanged{Meetings: set})
	if m := sub("training"); m != "" {
		t.Fatalf("a meeting without veterans: meeting %q", m)
	}
}
