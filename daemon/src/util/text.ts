/** Remove control characters (terminal escapes, line breaks) from text that came from a device. */
export const stripControl = (s: string): string => s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '');
