package bench

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// Series is one line of the chart: CPU cores against camera count.
type Series struct {
	Name   string       `json:"name"`
	Points [][2]float64 `json:"points"` // [cameras, cores]
}

// WriteChart draws the series as an SVG line chart of CPU (cores) against
// camera count, with the machine's core count as a dashed line.
func WriteChart(w io.Writer, title string, cores int, series []Series) error {
	const W, H, left, right, top, bottom = 720, 420, 70, 170, 40, 50
	maxX, maxY := 1.0, float64(cores)
	for _, s := range series {
		for _, p := range s.Points {
			maxX, maxY = math.Max(maxX, p[0]), math.Max(maxY, p[1])
		}
	}
	maxY = niceCeil(maxY * 1.1)
	maxX = niceCeil(maxX)
	x := func(v float64) float64 { return left + v/maxX*(W-left-right) }
	y := func(v float64) float64 { return H - bottom - v/maxY*(H-top-bottom) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", W, H)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%d" y="22" font-size="15">%s</text>`+"\n", left, xmlEscape(title))
	for i := 0; i <= 5; i++ {
		vx, vy := maxX*float64(i)/5, maxY*float64(i)/5
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#eee"/>`+"\n", x(vx), top, x(vx), H-bottom)
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#eee"/>`+"\n", left, y(vy), W-right, y(vy))
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%g</text>`+"\n", x(vx), H-bottom+18, round2(vx))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">%g</text>`+"\n", left-6, y(vy)+4, round2(vy))
	}
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>`+"\n", left, H-bottom, W-right, H-bottom)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>`+"\n", left, top, left, H-bottom)
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">cameras</text>`+"\n", (left+W-right)/2, H-12)
	fmt.Fprintf(&b, `<text transform="translate(18 %d) rotate(-90)" text-anchor="middle">CPU (cores)</text>`+"\n", (top+H-bottom)/2)
	fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#999" stroke-dasharray="6 4"/>`+"\n", left, y(float64(cores)), W-right, y(float64(cores)))
	fmt.Fprintf(&b, `<text x="%d" y="%.1f" fill="#999">%d cores</text>`+"\n", W-right+6, y(float64(cores))+4, cores)
	colors := []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd"}
	for i, s := range series {
		pts := slices.Clone(s.Points)
		slices.SortFunc(pts, func(a, b [2]float64) int { return int(math.Copysign(1, a[0]-b[0])) })
		col := colors[i%len(colors)]
		var path []string
		for _, p := range pts {
			path = append(path, fmt.Sprintf("%.1f,%.1f", x(p[0]), y(p[1])))
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"/>`+"\n", x(p[0]), y(p[1]), col)
		}
		if len(path) > 1 {
			fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>`+"\n", strings.Join(path, " "), col)
		}
		ly := top + 20*i + 10
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="14" height="4" fill="%s"/>`+"\n", W-right+10, ly, col)
		fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text>`+"\n", W-right+30, ly+6, xmlEscape(s.Name))
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}
