package ui

import (
	"image/color"
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

func size(n fyne.ThemeSizeName) float32 { return sizes[n] }

// line is one line of text that never wraps.
func line(s string, sz fyne.ThemeSizeName, c color.Color, bold bool) *canvas.Text {
	t := canvas.NewText(s, c)
	t.TextSize = size(sz)
	t.TextStyle.Bold = bold
	t.Alignment = fyne.TextAlignCenter
	return t
}

// para is text that wraps, for messages of unknown length (from the agent).
func para(s string, sz fyne.ThemeSizeName, bold bool) *widget.Label {
	l := widget.NewLabel(s)
	l.SizeName = sz
	l.Wrapping = fyne.TextWrapWord
	l.Alignment = fyne.TextAlignCenter
	l.TextStyle.Bold = bold
	return l
}

// fixed is an empty object of a minimum size, to hold space.
func fixed(w, h float32) *canvas.Rectangle {
	r := canvas.NewRectangle(color.Transparent)
	r.SetMinSize(fyne.NewSize(w, h))
	return r
}

// vgap is vertical space.
func vgap(h float32) fyne.CanvasObject { return fixed(1, h) }

// stackV stacks objects vertically, centred, with no padding of Fyne's own.
func stackV(objs ...fyne.CanvasObject) *fyne.Container {
	return container.New(&columnLayout{}, objs...)
}

// columnLayout puts objects under each other at their minimum heights,
// each centred horizontally; it gives widths the full column.
type columnLayout struct{}

func (columnLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var s fyne.Size
	for _, o := range objs {
		if !o.Visible() {
			continue
		}
		m := o.MinSize()
		s.Width = max(s.Width, m.Width)
		s.Height += m.Height
	}
	return s
}

func (columnLayout) Layout(objs []fyne.CanvasObject, sz fyne.Size) {
	y := float32(0)
	for _, o := range objs {
		if !o.Visible() {
			continue
		}
		m := o.MinSize()
		w := m.Width
		if _, ok := o.(*canvas.Text); !ok {
			w = sz.Width // labels wrap to the column; containers use it
		}
		o.Resize(fyne.NewSize(w, m.Height))
		o.Move(fyne.NewPos((sz.Width-w)/2, y))
		y += m.Height
	}
}

// bigButton is a large touch target: a Fyne button (for taps, hover and
// press feedback) under two centred lines, the primary language large and
// the other below it. Its minimum height is minH, far above the 15 mm a
// finger needs.
func bigButton(b *widget.Button, primary, secondary string, sz fyne.ThemeSizeName, minW, minH float32) fyne.CanvasObject {
	fg, fg2 := color.Color(colInk), color.Color(colMuted)
	if b.Importance == widget.HighImportance {
		fg, fg2 = colWhite, colOnNavy2
	}
	// One line mixing Chinese and English stays regular: the CJK font has
	// no bold face, and half-bold lines look broken.
	labels := []fyne.CanvasObject{line(primary, sz, fg, secondary != "")}
	if secondary != "" {
		labels = append(labels, vgap(2), line(secondary, SizeSmall, fg2, false))
	}
	objs := []fyne.CanvasObject{fixed(minW, minH), b}
	if b.Importance != widget.HighImportance {
		border := canvas.NewRectangle(color.Transparent)
		border.StrokeColor = colLine
		border.StrokeWidth = 2
		border.CornerRadius = size(theme.SizeNameInputRadius)
		objs = append(objs, border)
	}
	pad := size(theme.SizeNameInnerPadding)
	objs = append(objs, container.New(layout.NewCustomPaddedLayout(pad/2, pad/2, pad*1.5, pad*1.5), container.NewCenter(stackV(labels...))))
	return container.NewStack(objs...)
}

// panel is a white card with a thin border, to group what belongs together.
func panel(content fyne.CanvasObject) fyne.CanvasObject {
	bg := canvas.NewRectangle(colWhite)
	bg.StrokeColor = colLine
	bg.StrokeWidth = 2
	bg.CornerRadius = 18
	pad := size(SizeGap)
	return container.NewStack(bg, container.New(layout.NewCustomPaddedLayout(pad*0.75, pad*0.75, pad*1.5, pad*1.5), content))
}

// touchArea turns a tap anywhere on the screen into a touch, so that
// someone reading the screen with a finger on it does not time out.
type touchArea struct {
	widget.BaseWidget
	onTap func()
}

func newTouchArea(onTap func()) *touchArea {
	t := &touchArea{onTap: onTap}
	t.ExtendBaseWidget(t)
	return t
}

func (t *touchArea) Tapped(*fyne.PointEvent) {
	if t.onTap != nil {
		t.onTap()
	}
}

func (t *touchArea) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(canvas.NewRectangle(color.Transparent))
}

// tileGrid lays out service buttons in 3 columns on a wide screen, 2 on a
// narrow or portrait one, and 1 on a very narrow one; rows share the
// height, between the tile's minimum and a maximum that keeps a few
// services from turning into slabs.
type tileGrid struct {
	minH, maxH, gap float32
}

func (g *tileGrid) cols(w, h float32, n int) int {
	c := 3
	switch {
	case w < 560:
		c = 1
	case w < 900 || h > w*1.2:
		c = 2
	}
	return max(1, min(c, n))
}

func (g *tileGrid) MinSize(objs []fyne.CanvasObject) fyne.Size {
	n := len(objs)
	if n == 0 {
		return fyne.Size{}
	}
	var cell fyne.Size
	for _, o := range objs {
		cell = cell.Max(o.MinSize())
	}
	// The minimum is for three columns, the layout of a landscape screen,
	// so that the menu fits 1024×768; a portrait screen has the height
	// for more rows.
	c := min(3, n)
	rows := (n + c - 1) / c
	h := max(cell.Height, g.minH)
	return fyne.NewSize(float32(c)*cell.Width+float32(c-1)*g.gap, float32(rows)*h+float32(rows-1)*g.gap)
}

func (g *tileGrid) Layout(objs []fyne.CanvasObject, sz fyne.Size) {
	n := len(objs)
	if n == 0 {
		return
	}
	c := g.cols(sz.Width, sz.Height, n)
	rows := (n + c - 1) / c
	w := (sz.Width - float32(c-1)*g.gap) / float32(c)
	h := (sz.Height - float32(rows-1)*g.gap) / float32(rows)
	// Tiles shrink below minH only when the screen is too short for the
	// rows at all (a narrow landscape screen), rather than run off it.
	h = float32(math.Max(float64(g.minH)*0.75, math.Min(float64(g.maxH), float64(h))))
	// When the tiles reached their maximum (a portrait screen), the block
	// stays near the title, with at most two gaps of air above it, so the
	// eye does not have to jump.
	used := float32(rows)*h + float32(rows-1)*g.gap
	y0 := min(max(0, (sz.Height-used)/2), 2*g.gap)
	for i, o := range objs {
		r, col := i/c, i%c
		x := float32(col) * (w + g.gap)
		// A short last row is centred, so the grid looks deliberate.
		if r == rows-1 && n%c != 0 {
			x += (float32(c-n%c) * (w + g.gap)) / 2
		}
		o.Move(fyne.NewPos(x, y0+float32(r)*(h+g.gap)))
		o.Resize(fyne.NewSize(w, h))
	}
}

// splitLayout puts two objects side by side on a landscape screen and one
// above the other on a portrait one, each centred in its half.
type splitLayout struct{ gap float32 }

func (l *splitLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var s fyne.Size
	for i, o := range objs {
		m := o.MinSize()
		if i > 0 {
			s.Width += l.gap
		}
		s.Width += m.Width
		s.Height = max(s.Height, m.Height)
	}
	return s
}

func (l *splitLayout) Layout(objs []fyne.CanvasObject, sz fyne.Size) {
	n := float32(len(objs))
	if n == 0 {
		return
	}
	if sz.Width >= sz.Height {
		w := (sz.Width - l.gap*(n-1)) / n
		for i, o := range objs {
			m := o.MinSize()
			o.Resize(fyne.NewSize(w, m.Height))
			o.Move(fyne.NewPos(float32(i)*(w+l.gap), (sz.Height-m.Height)/2))
		}
		return
	}
	var total float32
	for _, o := range objs {
		total += o.MinSize().Height
	}
	total += l.gap * (n - 1)
	y := max(0, (sz.Height-total)/2)
	for _, o := range objs {
		m := o.MinSize()
		o.Resize(fyne.NewSize(sz.Width, m.Height))
		o.Move(fyne.NewPos(0, y))
		y += m.Height + l.gap
	}
}
