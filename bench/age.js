// `bench/run.js --encrypt`: the same export and materialize with an age-encrypted capsule
// (`--encrypt-to` / `--identity`), run right after the plain step of the same repetition so that both
// see the same background load. Cost = encrypted seconds / plain seconds, paired per repetition.
import { rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { generateIdentity, identityToRecipient } from 'age-encryption';

export async function ageBench(work, plainCapsule) {
  const identity = await generateIdentity();
  const recipient = await identityToRecipient(identity);
  const identityFile = join(work, 'bench-identity.txt');
  await writeFile(identityFile, `${identity}\n`, { mode: 0o600 });
  const capsule = `${plainCapsule}.age`;
  let bytes = 0;
  const swapCapsule = (cliArgs) => cliArgs.map((arg) => (arg === plainCapsule ? capsule : arg));
  return {
    async exportCapsule(run, exportArgs) {
      await rm(capsule, { force: true });
      const sample = await run([...swapCapsule(exportArgs), '--encrypt-to', recipient]);
      bytes = (await stat(capsule)).size;
      return sample;
    },
    async materialize(run, materializeArgs) {
      const sample = await run([...swapCapsule(materializeArgs), '--identity', identityFile]);
      if (sample.result.verified !== true)
        throw new Error('materialize of the encrypted capsule did not verify');
      return sample;
    },
    steps(samples, strategy, summarize) {
      const cost = (plain, encrypted) => {
        const ratios = encrypted.map((s, i) => s.seconds / plain[i].seconds);
        return { costBest: Math.min(...ratios), costWorst: Math.max(...ratios) };
      };
      return [
        summarize('export-postgres, age-encrypted', samples.ageExport, {
          bytes,
          ...cost(samples.export, samples.ageExport),
        }),
        // No materialize step ran with `--strategies ""` (export only): no row for it.
        ...(strategy && samples.ageMaterialize.length > 0
          ? [
              summarize(`materialize-postgres (${strategy}), age`, samples.ageMaterialize, {
                bytes,
                ...cost(samples[strategy], samples.ageMaterialize),
              }),
            ]
          : []),
      ];
    },
    async cleanUp() {
      await rm(capsule, { force: true });
      await rm(identityFile, { force: true });
    },
  };
}

/** One line per encrypted step: its cost against the plain step of the same repetitions. */
export function printAgeCost(size, write) {
  for (const step of size.steps.filter((s) => s.costBest !== undefined)) {
    const cost =
      step.costBest === step.costWorst
        ? `${step.costBest.toFixed(2)}×`
        : `${step.costBest.toFixed(2)}–${step.costWorst.toFixed(2)}×`;
    write(
      `${step.step}: ${cost} the plain step's time (paired per repetition), peak RSS ${step.peakMb?.toFixed(0)} MB\n`,
    );
  }
}
