package bolt_test

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/vetnet/vetnet"
	"github.com/vetnet/vetnet/edge-agent/bolt"
)

// A check-in is committed, sent, and cleared by the hub's ack.
func Example() {
	dir, _ := os.MkdirTemp("", "bolt-example")
	defer os.RemoveAll(dir)
	at := time.Date(2026, 11, 26, 9, 30, 0, 0, cst)
	s, err := bolt.Open(filepath.Join(dir, "station.db"), bolt.Options{
		StationID: "cz-xb-sanjing", Location: cst, Now: func() time.Time { return at },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	c, ticket, err := s.Commit(bolt.Draft{
		Visitor: vetnet.Visitor{IDNumber: "11010519491231002X", Name: "张建国"},
		Service: vetnet.ServiceBenefits,
		Method:  vetnet.MethodCard,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("seq", c.Seq, "ticket", ticket.QueueNo, "waiting", ticket.Waiting)

	pending, _ := s.Pending(100) // what the forwarder sends
	fmt.Println("pending", len(pending))

	cleared, _ := s.Ack([]string{c.ID}) // the hub's ack
	st, _ := s.OutboxStats()
	fmt.Println("cleared", cleared, "depth", st.Depth, "last seq", st.LastSeq)
	// Output:
	// seq 1 ticket B001 waiting 0
	// pending 1
	// cleared 1 depth 0 last seq 1
}
