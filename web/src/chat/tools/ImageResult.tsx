/** An image a tool returned (base64 in the result), opening in the lightbox. */
import { Lightbox } from "../Lightbox.js";

export function ImageResult({ data, mimeType }: { data: string; mimeType: string }) {
  const src = `data:${mimeType};base64,${data}`;
  return <Lightbox src={src} alt="Tool result image" thumbClassName="tool-image" />;
}
