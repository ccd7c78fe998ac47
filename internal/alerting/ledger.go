package alerting

import (
	"context"
	"sync"
)

// MemoryLedger remembers deliveries in this process: enough where a
// redelivered message reaches the same warm function, and for tests. It
// keeps the last memoryLedgerSize keys.
type MemoryLedger struct {
	mu    sync.Mutex
	keys  map[string]bool
	order []string
}

const memoryLedgerSize = 1000

// NewMemoryLedger returns an empty ledger.
func NewMemoryLedger() *MemoryLedger { return &MemoryLedger{keys: map[string]bool{}} }

// Delivered says whether key was recorded.
func (l *MemoryLedger) Delivered(_ context.Context, key string) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.keys[key], nil
}

// Record records key, forgetting the oldest beyond the ledger's size.
func (l *MemoryLedger) Record(_ context.Context, key string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.keys[key] {
		return nil
	}
	l.keys[key] = true
	l.order = append(l.order, key)
	if len(l.order) > memoryLedgerSize {
		delete(l.keys, l.order[0])
		l.order = l.order[1:]
	}
	return nil
}
