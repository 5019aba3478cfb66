// What kind of device and browser this is, for pairing names and install/notification guidance.

interface UAData {
  platform?: string;
  mobile?: boolean;
}

export function isIOS(): boolean {
  const ua = navigator.userAgent;
  return /iPhone|iPad|iPod/.test(ua) || (navigator.platform === 'MacIntel' && navigator.maxTouchPoints > 1);
}

export function isStandalone(): boolean {
  return (
    matchMedia('(display-mode: standalone)').matches || (navigator as { standalone?: boolean }).standalone === true
  );
}

/** A default device name: "iPhone", "Android phone", "Chrome on Linux"… */
export function defaultDeviceName(): string {
  const ua = navigator.userAgent;
  if (/iPad/.test(ua) || (navigator.platform === 'MacIntel' && navigator.maxTouchPoints > 1)) return 'iPad';
  if (/iPhone|iPod/.test(ua)) return 'iPhone';
  const data = (navigator as { userAgentData?: UAData }).userAgentData;
  const platform =
    data?.platform ||
    (/Android/.test(ua)
      ? 'Android'
      : /Mac/.test(ua)
        ? 'macOS'
        : /Win/.test(ua)
          ? 'Windows'
          : /Linux/.test(ua)
            ? 'Linux'
            : '');
  if (platform === 'Android' || data?.mobile) return `${platform || 'Mobile'} phone`;
  const browser = /Firefox\//.test(ua)
    ? 'Firefox'
    : /Edg\//.test(ua)
      ? 'Edge'
      : /Chrom/.test(ua)
        ? 'Chrome'
        : /Safari\//.test(ua)
          ? 'Safari'
          : 'Browser';
  return platform ? `${browser} on ${platform}` : browser;
}
