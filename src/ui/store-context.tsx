import {createContext, useContext, type ReactNode} from 'react';
import {useStore} from 'zustand';
import type {DoctorState, DoctorStore} from '../state/store.js';

const StoreContext = createContext<DoctorStore | undefined>(undefined);

export function StoreProvider({store, children}: {store: DoctorStore; children: ReactNode}) {
	return <StoreContext.Provider value={store}>{children}</StoreContext.Provider>;
}

/** Reads one field of the store; pass a selector that returns a stable value (or use useShallow). */
export function useDoctor<T>(selector: (s: DoctorState) => T): T {
	const store = useContext(StoreContext);
	if (!store) throw new Error('useDoctor needs a <StoreProvider>');
	return useStore(store, selector);
}

export function useDoctorStore(): DoctorStore {
	const store = useContext(StoreContext);
	if (!store) throw new Error('useDoctorStore needs a <StoreProvider>');
	return store;
}
