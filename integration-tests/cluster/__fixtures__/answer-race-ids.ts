/** The ids of the answer-race workflow, for the test process, which must not register the workflows itself. */
export const ANSWER_RACE_WF = "cluster-answer-race"

/** The async step both instances answer at once. */
export const RACED_STEP = "answer-race-wait"

/** The step after it, which records in answer_log each time it runs. */
export const AFTER_STEP = "answer-race-after"

/** Where the instances and the test meet: rounds, what each instance answers, what each call returned. */
export const ANSWER_RACE_TABLES = `
  CREATE TABLE IF NOT EXISTS answer_round (
    round int PRIMARY KEY, transaction_id text NOT NULL, starter text NOT NULL, answers jsonb NOT NULL);
  CREATE TABLE IF NOT EXISTS answer_outcome (
    round int NOT NULL, instance text NOT NULL, ok boolean NOT NULL, error_type text, error_message text,
    PRIMARY KEY (round, instance));
  CREATE TABLE IF NOT EXISTS answer_log (
    id serial PRIMARY KEY, transaction_id text NOT NULL, instance text NOT NULL, answered_by text)`

/** The channel the test tells the instances what to do on: `{ round, phase: "start" | "answer" }`. */
export const ANSWER_RACE_CHANNEL = "answer_race"

/** The application_name of an instance's connection while it waits to be released. */
export const GATE_APPLICATION = "answer-race-gate"
