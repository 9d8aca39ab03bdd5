export function FullPageSpinner() {
  return (
    <div className="full-page-center" role="status" aria-label="Loading">
      <span className="spinner" />
    </div>
  );
}
