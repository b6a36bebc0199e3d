namespace FedCoLLM.Actors;
