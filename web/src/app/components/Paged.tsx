import { Fragment, type ReactNode, type RefObject, useEffect, useRef, useState } from "react";

/** What one page of a connection is given: where it starts and, on the last page, how to ask for the next. */
export interface PageProps {
  after: string | null;
  onMore?: (cursor: string) => void;
}

/** Pages of a connection one below the other; the last one offers the next ("Show more"). */
export function Paged({ renderPage }: { renderPage: (page: PageProps) => ReactNode }) {
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  return (
    <>
      {cursors.map((after, index) => (
        <Fragment key={after ?? "first"}>
          {renderPage({
            after,
            onMore: index === cursors.length - 1 ? (cursor) => setCursors([...cursors, cursor]) : undefined,
          })}
        </Fragment>
      ))}
    </>
  );
}

/**
 * A ref for a page's first link: a page asked for with "Show more" takes the focus there when it
 * arrives (the button it replaces is gone).
 */
export function useFocusOnArrival(arrived: boolean, after: string | null): RefObject<HTMLAnchorElement | null> {
  const first = useRef<HTMLAnchorElement>(null);
  useEffect(() => {
    if (arrived && after !== null) first.current?.focus();
  }, [arrived, after]);
  return first;
}

/** The last item of a page: the button that asks for the next page, when there is one. */
export function MoreItem({
  pageInfo,
  onMore,
  label,
}: {
  pageInfo: { hasNextPage: boolean; endCursor?: string | null };
  onMore?: (cursor: string) => void;
  label: string;
}) {
  const cursor = pageInfo.endCursor;
  if (!onMore || !pageInfo.hasNextPage || !cursor) return null;
  return (
    <li className="more">
      <button type="button" onClick={() => onMore(cursor)}>
        {label}
      </button>
    </li>
  );
}
