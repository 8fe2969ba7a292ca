/* eslint-disable */
// Generated from schemas/gate-policy.schema.json by scripts/generate-types.js. Do not edit: edit the schema and run `npm run generate`.

export type Conditions = Condition[] | null;
/**
 * `<fact> <op> <value>` with op one of = != > >= < <= (e.g. `required_probes_failed > 0`)
 */
export type Condition = string;

/**
 * A replay loop's gate policy (loops/<loop>/gate.yaml), evaluated by `replay-env run` over the facts of the run. Each list holds conditions `<fact> <op> <value>`; block_if, human_review_if and warn_if fire when ANY condition holds; ship_to_staging_if holds when ALL do. Precedence: block > human_review > warn > continue.
 */
export interface GatePolicy {
  description?: string;
  block_if?: Conditions;
  human_review_if?: Conditions;
  warn_if?: Conditions;
  ship_to_staging_if?: Conditions;
}
