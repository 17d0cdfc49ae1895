// The wall clock as a value: everything that stamps or prints a time of day takes one, so tests give a fixed
// clock and their results do not depend on the day or the time they run (the product uses systemClock).

/** Returns the current time. */
export type Clock = () => Date;

export const systemClock: Clock = () => new Date();
