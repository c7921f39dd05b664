import { useCallback, useEffect, useId, useRef, useState, type ButtonHTMLAttributes, type KeyboardEvent, type ReactNode } from "react";

/** What a destructive action asks before it runs: the question names the thing, the
 * consequence says what is lost ("Its runs and triggers stop. This cannot be undone."). */
export interface ConfirmRequest {
  title: string;
  consequence: ReactNode;
  confirmLabel: string;
  onConfirm: () => void;
  /** Cancelling runs this (a role select goes back to the role it had). */
  onCancel?: () => void;
}

const FOCUSABLE = "button:not([disabled]), [href], input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex='-1'])";

/** A modal alert dialog (the native <dialog>: the page behind it is inert). Cancel has the
 * focus first, Tab stays inside, Escape cancels, and focus goes back to what opened it. */
export function ConfirmDialog({ request, onClose }: { request: ConfirmRequest | null; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const cancelRef = useRef<HTMLButtonElement>(null);
  const opener = useRef<Element | null>(null);
  const titleId = useId();
  const bodyId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (request && !dialog.open) {
      opener.current = document.activeElement;
      dialog.showModal();
      cancelRef.current?.focus();
    } else if (!request && dialog.open) {
      dialog.close();
      if (opener.current instanceof HTMLElement && opener.current.isConnected) opener.current.focus();
    }
  }, [request]);
  const cancel = () => {
    request?.onCancel?.();
    onClose();
  };
  const trapTab = (e: KeyboardEvent<HTMLDialogElement>) => {
    if (e.key !== "Tab" || !ref.current) return;
    const items = Array.from(ref.current.querySelectorAll<HTMLElement>(FOCUSABLE));
    if (items.length === 0) return;
    const first = items[0];
    const last = items[items.length - 1];
    if (e.shiftKey && document.activeElement === first) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    }
  };
  return (
    <dialog
      ref={ref}
      className="confirm-dialog"
      role="alertdialog"
      aria-modal="true"
      aria-labelledby={titleId}
      aria-describedby={bodyId}
      onKeyDown={trapTab}
      onCancel={(e) => {
        // Escape: the dialog closes through the same path as the Cancel button.
        e.preventDefault();
        cancel();
      }}
    >
      {request && (
        <>
          <h2 id={titleId}>{request.title}</h2>
          <p id={bodyId}>{request.consequence}</p>
          <div className="form-actions">
            <button type="button" ref={cancelRef} className="button secondary" onClick={cancel}>
              Cancel
            </button>
            <button
              type="button"
              className="button danger"
              onClick={() => {
                request.onConfirm();
                onClose();
              }}
            >
              {request.confirmLabel}
            </button>
          </div>
        </>
      )}
    </dialog>
  );
}

/** `ask(request)` opens the page's confirm dialog; render `dialog` once in the component. */
export function useConfirm(): { ask: (request: ConfirmRequest) => void; dialog: ReactNode } {
  const [request, setRequest] = useState<ConfirmRequest | null>(null);
  const close = useCallback(() => setRequest(null), []);
  return { ask: setRequest, dialog: <ConfirmDialog request={request} onClose={close} /> };
}

/** A button that asks `request` (through `ask`, a `useConfirm()`'s) before its action runs;
 * a danger button unless `className` says otherwise. */
export function ConfirmButton({ ask, request, className = "button danger", ...button }: { ask: (request: ConfirmRequest) => void; request: ConfirmRequest } & Omit<ButtonHTMLAttributes<HTMLButtonElement>, "type" | "onClick">) {
  return <button type="button" className={className} onClick={() => ask(request)} {...button} />;
}
