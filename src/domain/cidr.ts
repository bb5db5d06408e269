/**
 * CIDR checks for network rules: a bare IP becomes a /32 (IPv4) or /128 (IPv6); anything else
 * that is not a well-formed CIDR is refused. No DNS names, no leading zeros, no zone ids.
 */
const V4_OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

function isIpv4(text: string): boolean {
  const parts = text.split('.');
  return parts.length === 4 && parts.every((p) => V4_OCTET.test(p));
}

function isIpv6(text: string): boolean {
  // (split('::') alone misses ':::', which has no valid reading)
  if (!/^[0-9A-Fa-f:.]+$/.test(text) || text.split('::').length > 2 || text.includes(':::')) return false;
  let groups = text.split(':');
  // An IPv4 tail (::ffff:1.2.3.4) counts as two groups.
  const last = groups[groups.length - 1]!;
  if (last.includes('.')) {
    if (!isIpv4(last)) return false;
    groups = [...groups.slice(0, -1), '0', '0'];
  }
  const compressed = text.includes('::');
  const filled = groups.filter((g) => g !== '');
  if (filled.some((g) => !/^[0-9A-Fa-f]{1,4}$/.test(g))) return false;
  if (!compressed && (groups.length !== 8 || groups.includes(''))) return false;
  if (compressed && filled.length > 7) return false;
  // Only "::" may be empty groups: a stray single colon at either end is invalid.
  if (!compressed && groups.some((g) => g === '')) return false;
  if (/^:[^:]/.test(text) || /[^:]:$/.test(text)) return false;
  return true;
}

/** The normalized CIDR, or undefined when the text is neither an IP nor a CIDR. */
export function normalizeCidr(text: string): string | undefined {
  const trimmed = text.trim();
  const [addr, prefix, extra] = trimmed.split('/');
  if (extra !== undefined || !addr) return undefined;
  const v4 = isIpv4(addr);
  const v6 = !v4 && isIpv6(addr);
  if (!v4 && !v6) return undefined;
  const max = v4 ? 32 : 128;
  if (prefix === undefined) return `${addr.toLowerCase()}/${max}`;
  if (!/^(0|[1-9]\d{0,2})$/.test(prefix) || Number(prefix) > max) return undefined;
  return `${addr.toLowerCase()}/${prefix}`;
}
