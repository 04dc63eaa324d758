/**
 * Device reputation in [0, 1] (docs/protocol.md §Reputation): a new device starts at 0.5; each
 * accepted task moves it 5% of the way to 1, each rejected task halves it, each expired lease
 * takes 10% off. Trust is slow to earn and quick to lose, so a device that cheats once needs
 * about fourteen honest tasks to win back its weight in assignment.
 */
export const INITIAL_REPUTATION = 0.5;

export function afterAccepted(reputation: number): number {
  return reputation + 0.05 * (1 - reputation);
}

export function afterRejected(reputation: number): number {
  return reputation * 0.5;
}

export function afterLeaseExpired(reputation: number): number {
  return reputation * 0.9;
}
