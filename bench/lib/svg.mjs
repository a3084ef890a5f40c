// A dependency-free grouped bar chart in SVG: one panel per metric family, one bar colour per
// system, value labels on the bars.
const COLORS = { raw: '#6b7280', rawFramed: '#10b981', realtime: '#2563eb', bundled: '#d97706' }
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;')

function fmt (v) {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)
}

/** groups: [{label, bars: [{system, value|null}]}] drawn in a `width` x `height` box at y. */
function panel ({ title, unit, groups, y, width, height }) {
  const left = 60
  const plotW = width - left - 20
  const plotH = height - 60
  const top = y + 30
  const values = groups.flatMap((g) => g.bars.map((b) => b.value ?? 0))
  const maxV = Math.max(1e-9, ...values) * 1.15
  const groupW = plotW / Math.max(1, groups.length)
  const barW = Math.min(40, (groupW - 20) / Math.max(1, groups[0]?.bars.length ?? 1))
  const parts = [`<text x="${left}" y="${y + 18}" font-size="14" font-weight="bold">${esc(title)} (${esc(unit)})</text>`,
    `<line x1="${left}" y1="${top + plotH}" x2="${left + plotW}" y2="${top + plotH}" stroke="#999"/>`]
  groups.forEach((g, gi) => {
    const gx = left + gi * groupW + (groupW - barW * g.bars.length) / 2
    g.bars.forEach((b, bi) => {
      const x = gx + bi * barW
      if (b.value === null || b.value === undefined) {
        parts.push(`<text x="${x + barW / 2}" y="${top + plotH - 4}" font-size="9" text-anchor="middle">n/a</text>`)
        return
      }
      const h = (b.value / maxV) * plotH
      parts.push(`<rect x="${x + 2}" y="${top + plotH - h}" width="${barW - 4}" height="${h}" fill="${COLORS[b.system]}"/>`)
      parts.push(`<text x="${x + barW / 2}" y="${top + plotH - h - 3}" font-size="9" text-anchor="middle">${fmt(b.value)}</text>`)
    })
    parts.push(`<text x="${left + gi * groupW + groupW / 2}" y="${top + plotH + 16}" font-size="11" text-anchor="middle">${esc(g.label)}</text>`)
  })
  return parts.join('\n')
}

export function chartSvg (panels, labels) {
  const width = 760
  const height = 230
  const legendH = 30
  const body = panels.map((p, i) => panel({ ...p, y: legendH + i * height, width, height })).join('\n')
  const legend = Object.entries(labels).map(([system, label], i) =>
    `<rect x="${20 + i * 185}" y="8" width="12" height="12" fill="${COLORS[system]}"/><text x="${38 + i * 185}" y="18" font-size="12">${esc(label)}</text>`).join('\n')
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${legendH + panels.length * height}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
${legend}
${body}
</svg>
`
}
