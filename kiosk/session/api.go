package session

import (
	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/localapi"
)

// FromAPI turns an event of the agent's stream into a session event.
// Unknown event types are not an error of the stream (a newer agent may
// send more); they return a nil Event and a nil error, to be skipped.
func FromAPI(ev localapi.Event) (Event, error) {
	switch ev.Type {
	case localapi.EventCard:
		c, err := ev.Card()
		if err != nil {
			return nil, badEvent(err)
		}
		return CardRead{Card: c}, nil
	case localapi.EventCardError:
		c, err := ev.CardError()
		if err != nil {
			return nil, badEvent(err)
		}
		return CardFailed{Error: c}, nil
	case localapi.EventStaff:
		st, err := ev.StaffEvent()
		if err != nil {
			return nil, badEvent(err)
		}
		return StaffSignedIn{Session: st}, nil
	case localapi.EventQueue:
		q, err := ev.QueueStatus()
		if err != nil {
			return nil, badEvent(err)
		}
		return QueueChanged{Queue: q}, nil
	case localapi.EventStatus:
		st, err := ev.Status()
		if err != nil {
			return nil, badEvent(err)
		}
		return AgentStatus{Status: st}, nil
	case localapi.EventMeetings:
		m, err := ev.Meetings()
		if err != nil {
			return nil, badEvent(err)
		}
		return MeetingsChanged{Meetings: m}, nil
	}
	return nil, nil
}

func badEvent(err error) error {
	return vetnet.Wrap(vetnet.EINTERNAL, err, "站点服务发来的消息无效", "The station agent sent a bad event.")
}
