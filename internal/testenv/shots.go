package testenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// The two window sizes every browser journey ends at: a laptop's and a phone's.
var shotSizes = []struct {
	name          string
	width, height int64
	mobile        bool
}{
	{"1366x768", 1366, 768, false},
	{"390x844", 390, 844, true},
}

// ShotsDir is where journeys keep their screenshots: $ROSTER_TEST_SHOTS, or a folder under the
// system's temporary directory.
func ShotsDir() string {
	if d := os.Getenv("ROSTER_TEST_SHOTS"); d != "" {
		return d
	}
	return filepath.Join(os.TempDir(), "roster-shots")
}

// Shots looks at the page the browser shows as a laptop and as a phone would: at each size it
// keeps a full-page PNG named after the test and name, and fails the test when the page is
// wider than the window (a table or a long value that does not wrap or scroll in its box).
// The window is left at the laptop's size.
func Shots(t testing.TB, ctx context.Context, name string) {
	t.Helper()
	dir := ShotsDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("shots folder: %v", err)
	}
	base := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name() + "-" + name)
	for _, s := range shotSizes {
		opts := []chromedp.EmulateViewportOption{}
		if s.mobile {
			opts = append(opts, chromedp.EmulateMobile)
		}
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(s.width, s.height, opts...)); err != nil {
			t.Fatalf("window %s: %v", s.name, err)
		}
		scroll, err := chromedp.Run(ctx, chromedp.Evaluate[int64](`document.documentElement.scrollWidth`))
		if err != nil {
			t.Fatalf("page width at %s: %v", s.name, err)
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s at %s: %v", name, s.name, err)
		}
		file := filepath.Join(dir, fmt.Sprintf("%s-%s.png", base, s.name))
		if err := os.WriteFile(file, png, 0o644); err != nil {
			t.Fatalf("keep screenshot: %v", err)
		}
		if scroll > s.width {
			t.Errorf("%s at %s: the page is %d px wide in a %d px window (%s)", name, s.name, scroll, s.width, file)
		}
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(shotSizes[0].width, shotSizes[0].height)); err != nil {
		t.Fatalf("reset window: %v", err)
	}
}
