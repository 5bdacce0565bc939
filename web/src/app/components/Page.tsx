import { useEffect, useRef, type ReactNode } from "react";

/**
 * A page's heading and title. On every page change focus moves to the heading, so a screen
 * reader announces where the person is and the keyboard starts from the top of the content.
 */
export function Page({ title, children, wide }: { title: string; children: ReactNode; wide?: boolean }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · Tickets`;
  }, [title]);
  useEffect(() => {
    heading.current?.focus();
  }, []);
  return (
    <section className={wide ? "page page-wide" : "page"} aria-labelledby="page-title">
      <h1 id="page-title" ref={heading} tabIndex={-1}>
        {title}
      </h1>
      {children}
    </section>
  );
}
