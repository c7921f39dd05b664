import type { ReactNode } from "react";

/**
 * A small form on one line (wrapping on a narrow screen): its fields, then its submit button,
 * then any other buttons. Submitting runs `onSubmit` instead of loading a page.
 */
export function InlineForm({
  onSubmit,
  submitLabel,
  disabled = false,
  secondary = false,
  card = false,
  after,
  children,
}: {
  onSubmit: () => void;
  submitLabel: ReactNode;
  disabled?: boolean;
  /** A secondary submit button (an edit of what is shown) rather than a primary one. */
  secondary?: boolean;
  /** The form is a card of its own (not inside one). */
  card?: boolean;
  /** Buttons after the submit button. */
  after?: ReactNode;
  children: ReactNode;
}) {
  return (
    <form
      className={card ? "card inline-form" : "inline-form"}
      onSubmit={(e) => {
        e.preventDefault();
        onSubmit();
      }}
    >
      {children}
      <button type="submit" className={secondary ? "button secondary" : "button primary"} disabled={disabled}>
        {submitLabel}
      </button>
      {after}
    </form>
  );
}
