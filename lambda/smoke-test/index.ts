// Placeholder: the smoke-test Lambda is being written (issue 4). Exists so the stack synthesizes.
export const handler = async (): Promise<void> => {
  throw new Error('smoke-test handler not implemented yet');
};
