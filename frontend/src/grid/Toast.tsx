// A short message at the bottom of the page with at most one action ("Committed 5 changes.
// Undo"), read out by screen readers; it stays until dismissed or replaced.
export interface ToastMessage {
  text: string;
  action?: { label: string; run: () => void; busy?: boolean };
}

export function Toast({ toast, onClose }: { toast: ToastMessage | null; onClose: () => void }) {
  return (
    <div role="status" aria-live="polite" className={toast ? "toast" : "sr-only"}>
      {toast && (
        <>
          <span>{toast.text}</span>
          {toast.action && (
            <button type="button" className="button link" onClick={toast.action.run} disabled={toast.action.busy}>
              {toast.action.label}
            </button>
          )}
          <button type="button" className="button link" onClick={onClose} aria-label="Dismiss">
            ×
          </button>
        </>
      )}
    </div>
  );
}
