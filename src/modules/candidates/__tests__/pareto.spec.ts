import { FrontierStatus, paretoFrontier } from '../pareto';

const { ON_FRONTIER, DOMINATED, NO_QUALITY, NO_COST, NO_QUALITY_NO_COST } = FrontierStatus;

test('higher quality is better: the non-dominated points form the frontier, each dominated one names all that dominate it', () => {
  const places = paretoFrontier([
    { quality: 0.8, cost: 1 },   // 0: cheapest
    { quality: 0.9, cost: 5 },   // 1: best
    { quality: 0.85, cost: 2 },  // 2: in between
    { quality: 0.79, cost: 3 },  // 3: worse and dearer than 0 and 2
    { quality: 0.9, cost: 6 },   // 4: as good as 1, dearer
  ], true);
  expect(places).toEqual([
    { status: ON_FRONTIER, dominatedBy: [] },
    { status: ON_FRONTIER, dominatedBy: [] },
    { status: ON_FRONTIER, dominatedBy: [] },
    { status: DOMINATED, dominatedBy: [0, 2] },
    { status: DOMINATED, dominatedBy: [1] },
  ]);
});

test('lower quality is better (a loss): the direction flips, cost stays lower-is-better', () => {
  const places = paretoFrontier([{ quality: 0.2, cost: 3 }, { quality: 0.3, cost: 3 }, { quality: 0.3, cost: 1 }], false);
  expect(places.map((p) => p.status)).toEqual([ON_FRONTIER, DOMINATED, ON_FRONTIER]);
  expect(places[1].dominatedBy).toEqual([0, 2]);
});

test('equal points are on the frontier together; equal on one objective and worse on the other is dominated', () => {
  const places = paretoFrontier([
    { quality: 0.5, cost: 2 }, { quality: 0.5, cost: 2 }, { quality: 0.5, cost: 3 }, { quality: 0.4, cost: 2 },
  ], true);
  expect(places).toEqual([
    { status: ON_FRONTIER, dominatedBy: [] },
    { status: ON_FRONTIER, dominatedBy: [] },
    { status: DOMINATED, dominatedBy: [0, 1] },
    { status: DOMINATED, dominatedBy: [0, 1] },
  ]);
});

test('a candidate missing a figure is on no frontier and dominates nothing; cost 0 is a figure', () => {
  const places = paretoFrontier([
    { quality: null, cost: 0 }, { quality: 1, cost: null }, { quality: null, cost: null }, { quality: 0.1, cost: 0 }, { quality: 0.1, cost: 5 },
  ], true);
  expect(places).toEqual([
    { status: NO_QUALITY, dominatedBy: [] },
    { status: NO_COST, dominatedBy: [] },
    { status: NO_QUALITY_NO_COST, dominatedBy: [] },
    { status: ON_FRONTIER, dominatedBy: [] },
    { status: DOMINATED, dominatedBy: [3] },
  ]);
});
