/** CSV files made in the browser (RFC 4180 quoting) and handed to the user as a download. */

function field(value) {
  if (value == null) return "";
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv(header, rows) {
  return [header, ...rows].map((row) => row.map(field).join(",")).join("\r\n") + "\r\n";
}

/** Save ``text`` as ``filename`` through a short-lived blob link. */
export function download(filename, text, type = "text/csv;charset=utf-8") {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** A file name from user text: letters, digits, dot, dash and underscore only. */
export function safeName(text) {
  return (
    String(text)
      .replace(/[^A-Za-z0-9._-]+/g, "_")
      .slice(0, 80) || "export"
  );
}
