/** A thumbnail that opens the full image in a dialog (Escape or a click outside closes it). */
import * as Dialog from "@radix-ui/react-dialog";
import { X } from "lucide-react";

export function Lightbox({ src, alt, thumbClassName }: { src: string; alt: string; thumbClassName: string }) {
  return (
    <Dialog.Root>
      <Dialog.Trigger className="thumb-button" aria-label={`Open ${alt}`}>
        <img src={src} alt={alt} className={thumbClassName} loading="lazy" />
      </Dialog.Trigger>
      <Dialog.Portal>
        <Dialog.Overlay className="dialog-overlay" />
        <Dialog.Content className="lightbox-content" aria-describedby={undefined}>
          <Dialog.Title className="sr-only">{alt}</Dialog.Title>
          <img src={src} alt={alt} className="lightbox-image" />
          <Dialog.Close className="btn btn-icon lightbox-close" aria-label="Close image">
            <X size={16} aria-hidden />
          </Dialog.Close>
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}
