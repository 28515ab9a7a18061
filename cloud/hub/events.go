package hub

import (
	"sync"

	"github.com/vetnet/vetnet/cloud"
)

// fanout hands live events to subscribers (dashboards). It never blocks
// the publisher: a subscriber whose buffer is full misses the event, which
// is counted. A dashboard that missed events reloads its lists.
type fanout struct {
	mu      sync.Mutex
	subs    map[int]chan cloud.Event
	next    int
	dropped func()
}

func newFanout(dropped func()) *fanout {
	return &fanout{subs: map[int]chan cloud.Event{}, dropped: dropped}
}

// subscribe returns a channel of events and a cancel function that closes it.
func (f *fanout) subscribe(buf int) (<-chan cloud.Event, func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := f.next
	f.next++
	ch := make(chan cloud.Event, buf)
	f.subs[id] = ch
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			f.mu.Lock()
			defer f.mu.Unlock()
			if c, ok := f.subs[id]; ok {
				delete(f.subs, id)
				close(c)
			}
		})
	}
}

func (f *fanout) publish(e cloud.Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, ch := range f.subs {
		select {
		case ch <- e:
		default:
			f.dropped()
		}
	}
}

func (f *fanout) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.subs)
}

// closeAll ends every subscription (at shutdown).
func (f *fanout) closeAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for id, ch := range f.subs {
		delete(f.subs, id)
		close(ch)
	}
}
