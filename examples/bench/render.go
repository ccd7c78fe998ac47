package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/sluice-gitops/sluice/internal/kube"
	"github.com/sluice-gitops/sluice/internal/render"
)

// renderRows times rendering the fixture's prod overlay: Sluice's in-process
// render.Build with the Kustomization's targetNamespace against a `kubectl
// kustomize` process on the same folder (whose kustomization already sets
// that namespace), after checking that both yield the same objects.
func (b *bench) renderRows(ctx context.Context) ([]row, error) {
	in := b.fixture()
	dir := filepath.Join(in.root, in.path)
	var objs []*unstructured.Unstructured
	sluiceRender := func() error {
		var err error
		objs, err = render.Build(in.root, render.Options{Path: in.path, TargetNamespace: fixtureNS})
		return err
	}
	var kubectlOut []byte
	kubectlRender := func() (proc, error) {
		p, err := b.kubectlRun(ctx, "kustomize", dir)
		if err == nil && p.code != 0 {
			err = fmt.Errorf("kubectl kustomize %s exited %d: %s", dir, p.code, p.tail())
		}
		kubectlOut = p.stdout
		return p, err
	}
	var sluice, ref result
	// Run 0 warms up both sides (kustomize's OpenAPI schema in the process,
	// the page cache for kubectl) and checks they agree.
	for i := 0; i <= b.opts.runs; i++ {
		d, err := timed(sluiceRender)
		if err != nil {
			return nil, err
		}
		p, err := kubectlRender()
		if err != nil {
			return nil, err
		}
		if i == 0 {
			if err := sameObjects(objs, kubectlOut); err != nil {
				return nil, err
			}
			continue
		}
		sluice.add(d)
		ref.addProc(p)
	}
	return []row{{
		work:   fmt.Sprintf("render the fixture (%d objects): in-process `render.Build` vs `kubectl kustomize`", len(objs)),
		sluice: &sluice, ref: &ref,
	}}, nil
}

// sameObjects checks that Sluice's render and kubectl's YAML hold the same
// objects (kind, namespace, name).
func sameObjects(objs []*unstructured.Unstructured, kubectlYAML []byte) error {
	var want, got []string
	for _, o := range objs {
		got = append(got, kube.ObjectID(o))
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(kubectlYAML), 4096)
	for {
		var o unstructured.Unstructured
		err := dec.Decode(&o.Object)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("reading kubectl's output: %w", err)
		}
		if o.Object != nil {
			want = append(want, kube.ObjectID(&o))
		}
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(want, got) {
		return fmt.Errorf("render.Build and kubectl kustomize disagree:\n  kubectl: %s\n  sluice:  %s", strings.Join(want, ", "), strings.Join(got, ", "))
	}
	return nil
}
