const BYTE_UNITS = ["B", "KB", "MB", "GB", "TB"]

export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) {
    return "–"
  }
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024
    unit++
  }
  return `${value.toFixed(value >= 10 || unit === 0 ? 0 : 1)} ${BYTE_UNITS[unit]}`
}

export function formatCount(count: number): string {
  return new Intl.NumberFormat().format(count)
}

const SPANS: [string, number][] = [
  ["d", 86400],
  ["h", 3600],
  ["min", 60],
  ["s", 1],
]

/** "2 d 3 h" for 183600: the two largest units, enough to read a retention. */
export function formatSeconds(seconds: number): string {
  if (seconds === 0) {
    return "0 s"
  }
  const parts: string[] = []
  let rest = Math.round(seconds)
  for (const [unit, size] of SPANS) {
    if (rest >= size && parts.length < 2) {
      parts.push(`${Math.floor(rest / size)} ${unit}`)
      rest %= size
    }
  }
  return parts.join(" ")
}

export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : formatSeconds(ms / 1000)
}

export function formatDate(iso: string | null | undefined): string {
  if (!iso) {
    return "–"
  }
  return new Date(iso).toLocaleString(undefined, {
    dateStyle: "medium",
    timeStyle: "short",
  })
}
