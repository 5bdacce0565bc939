import { useEffect, useState } from "react";
import { remaining, spokenDuration } from "../format";

export function useNow(everyMs: number, running: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!running) return;
    const timer = window.setInterval(() => setNow(Date.now()), everyMs);
    return () => window.clearInterval(timer);
  }, [everyMs, running]);
  return now;
}

/**
 * Time left to pay, ticking each second. A timer role is not read out on every tick; the
 * label says it in words for whoever moves onto it.
 */
export function Countdown({ deadline, now }: { deadline: number; now: number }) {
  const left = remaining(deadline, now);
  return (
    <span role="timer" className="countdown" aria-label={`${spokenDuration(deadline, now)} left to pay`} data-testid="countdown">
      {left}
    </span>
  );
}
