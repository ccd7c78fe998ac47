package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/sluice-gitops/sluice/internal/kube"
	"github.com/sluice-gitops/sluice/internal/render"
	"github.com/sluice-gitops/sluice/internal/render/rendertest"
)

// renderRows times rendering the fixture's prod overlay and the generated
// overlay: Sluice's in-process render.Build with the Kustomization's
// targetNamespace against a `kubectl kustomize` process on the same overlay
// whose kustomization sets that namespace itself (the kustomization render
// serves kustomize), after checking that both yield the same objects.
func (b *bench) renderRows(ctx context.Context) ([]row, error) {
	fixture := b.fixture()
	// The fixture's kustomization already sets its namespace.
	fixtureRow, err := b.renderRow(ctx, fixture, "the fixture", fixtureNS, filepath.Join(fixture.root, fixture.path))
	if err != nil {
		return nil, err
	}
	dir, err := b.namespacedOverlay(renderNS)
	if err != nil {
		return nil, err
	}
	generated, err := b.generated(b.opts.objects)
	if err != nil {
		return nil, err
	}
	generatedRow, err := b.renderRow(ctx, generated, "the generated overlay", renderNS, dir)
	if err != nil {
		return nil, err
	}
	return []row{fixtureRow, generatedRow}, nil
}

// renderNS is the targetNamespace the generated overlay is rendered with.
const renderNS = "bench"

// namespacedOverlay writes a copy of the generated overlay whose own
// kustomization sets ns, for kubectl, and returns the overlay's folder.
func (b *bench) namespacedOverlay(ns string) (string, error) {
	root := filepath.Join(b.work, "render-kubectl")
	if err := rendertest.GenerateOverlay(root, b.opts.objects); err != nil {
		return "", err
	}
	dir := filepath.Join(root, rendertest.OverlayPath)
	k := filepath.Join(dir, "kustomization.yaml")
	data, err := os.ReadFile(k)
	if err != nil {
		return "", err
	}
	return dir, os.WriteFile(k, append(data, "namespace: "+ns+"\n"...), 0o644)
}

// renderRow times render.Build of in with targetNamespace ns against
// `kubectl kustomize kubectlDir`; what names in in the row.
func (b *bench) renderRow(ctx context.Context, in input, what, ns, kubectlDir string) (row, error) {
	var objs []*unstructured.Unstructured
	sluiceRender := func() error {
		var err error
		objs, err = render.Build(in.root, render.Options{Path: in.path, TargetNamespace: ns})
		return err
	}
	var kubectlOut []byte
	kubectlRender := func() (proc, error) {
		p, err := b.kubectlRun(ctx, "kustomize", kubectlDir)
		if err == nil && p.code != 0 {
			err = fmt.Errorf("kubectl kustomize %s exited %d: %s", kubectlDir, p.code, p.tail())
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
			return row{}, err
		}
		p, err := kubectlRender()
		if err != nil {
			return row{}, err
		}
		if i == 0 {
			if err := sameObjects(objs, kubectlOut); err != nil {
				return row{}, err
			}
			continue
		}
		sluice.add(d)
		ref.addProc(p)
	}
	return row{
		work:   fmt.Sprintf("render %s (%d objects): in-process `render.Build` vs `kubectl kustomize`", what, len(objs)),
		sluice: &sluice, ref: &ref,
	}, nil
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
