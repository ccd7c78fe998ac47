package desired

import (
	"crypto/sha256"
	"encoding/json"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/sluice-gitops/sluice/internal/render"
)

// renders remembers, for the life of a warm Lambda container, the objects
// each Kustomization rendered at the latest revision. A build is a pure
// function of the commit and the options, and kustomize's build of a large
// overlay costs seconds, so a drift check or a redelivered reconcile at an
// unchanged head needs none. Only one revision is kept: a new head drops the
// rest, which bounds the memory to one commit's objects. A build that
// decrypts is never kept: each one asks its keys again, so a key that was
// revoked fails the next reconcile and drift check, as in Flux, and no
// plaintext outlives the invocation that needed it.
var renders = &renderMemo{}

type renderMemo struct {
	mu       sync.Mutex
	revision string
	objects  map[[32]byte][]*unstructured.Unstructured
	// hits counts the renders answered from the memo, so a test can tell a
	// memoised render from a fresh build that happens to be equal.
	hits int
}

func memoKey(opts render.Options) [32]byte {
	b, _ := json.Marshal(opts) // plain data: never fails
	return sha256.Sum256(b)
}

func (m *renderMemo) get(revision string, opts render.Options) ([]*unstructured.Unstructured, bool) {
	if opts.Decryptor != nil {
		return nil, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	objs, ok := m.objects[memoKey(opts)]
	if !ok || m.revision != revision {
		return nil, false
	}
	m.hits++
	return deepCopy(objs), true
}

// hitCount is the number of renders answered from the memo so far.
func (m *renderMemo) hitCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.hits
}

func (m *renderMemo) put(revision string, opts render.Options, objs []*unstructured.Unstructured) {
	if opts.Decryptor != nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.revision != revision {
		m.revision, m.objects = revision, map[[32]byte][]*unstructured.Unstructured{}
	}
	m.objects[memoKey(opts)] = deepCopy(objs)
}

// deepCopy keeps the memo apart from callers, who label and apply objects.
func deepCopy(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
	out := make([]*unstructured.Unstructured, len(objs))
	for i, o := range objs {
		out[i] = o.DeepCopy()
	}
	return out
}
